package printers

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events/objects"
)

// printers maps each stored kind to its table columns.
var printers = map[string]printer{
	"Pod":                     typed(podColumns, podRow),
	"Deployment":              typed(deploymentColumns, deploymentRow),
	"ReplicaSet":              typed(replicaSetColumns, replicaSetRow),
	"DaemonSet":               typed(daemonSetColumns, daemonSetRow),
	"StatefulSet":             typed(statefulSetColumns, statefulSetRow),
	"Job":                     typed(jobColumns, jobRow),
	"CronJob":                 typed(cronJobColumns, cronJobRow),
	"Service":                 typed(serviceColumns, serviceRow),
	"Endpoints":               typed(endpointsColumns, endpointsRow),
	"ConfigMap":               typed(configMapColumns, configMapRow),
	"Secret":                  typed(secretColumns, secretRow),
	"ServiceAccount":          typed(serviceAccountColumns, serviceAccountRow),
	"Namespace":               typed(namespaceColumns, namespaceRow),
	"Node":                    typed(nodeColumns, nodeRow),
	"PersistentVolume":        typed(pvColumns, pvRow),
	"PersistentVolumeClaim":   typed(pvcColumns, pvcRow),
	"Ingress":                 typed(ingressColumns, ingressRow),
	"Role":                    typed(roleColumns, roleRow),
	"ClusterRole":             typed(roleColumns, clusterRoleRow),
	"RoleBinding":             typed(bindingColumns, roleBindingRow),
	"ClusterRoleBinding":      typed(bindingColumns, clusterRoleBindingRow),
	"HorizontalPodAutoscaler": typed(hpaColumns, hpaRow),
	"PodDisruptionBudget":     typed(pdbColumns, pdbRow),
	"ResourceQuota":           typed(resourceQuotaColumns, resourceQuotaRow),
	"LimitRange":              typed(limitRangeColumns, limitRangeRow),
	"Event":                   typed(eventColumns, eventRow),
}

// sortEventObjects orders Event objects by when they were last seen.
func sortEventObjects(objs []objects.Object) []objects.Object {
	evs := make([]*corev1.Event, 0, len(objs))
	for _, o := range objs {
		evs = append(evs, o.(*corev1.Event))
	}
	out := make([]objects.Object, 0, len(objs))
	for _, e := range sortEvents(evs) {
		out = append(out, e)
	}
	return out
}
