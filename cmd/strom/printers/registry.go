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

	"ReplicationController":            typed(replicationControllerColumns, replicationControllerRow),
	"PodTemplate":                      typed(podTemplateColumns, podTemplateRow),
	"ControllerRevision":               typed(controllerRevisionColumns, controllerRevisionRow),
	"EndpointSlice":                    typed(endpointSliceColumns, endpointSliceRow),
	"Lease":                            typed(leaseColumns, leaseRow),
	"IngressClass":                     typed(ingressClassColumns, ingressClassRow),
	"NetworkPolicy":                    typed(networkPolicyColumns, networkPolicyRow),
	"ServiceCIDR":                      typed(serviceCIDRColumns, serviceCIDRRow),
	"IPAddress":                        typed(ipAddressColumns, ipAddressRow),
	"StorageClass":                     typed(storageClassColumns, storageClassRow),
	"VolumeAttributesClass":            typed(volumeAttributesClassColumns, volumeAttributesClassRow),
	"VolumeAttachment":                 typed(volumeAttachmentColumns, volumeAttachmentRow),
	"CSIDriver":                        typed(csiDriverColumns, csiDriverRow),
	"CSINode":                          typed(csiNodeColumns, csiNodeRow),
	"CSIStorageCapacity":               typed(csiStorageCapacityColumns, csiStorageCapacityRow),
	"PriorityClass":                    typed(priorityClassColumns, priorityClassRow),
	"RuntimeClass":                     typed(runtimeClassColumns, runtimeClassRow),
	"CertificateSigningRequest":        typed(certificateSigningRequestColumns, certificateSigningRequestRow),
	"ClusterTrustBundle":               typed(clusterTrustBundleColumns, clusterTrustBundleRow),
	"PodCertificateRequest":            typed(podCertificateRequestColumns, podCertificateRequestRow),
	"MutatingWebhookConfiguration":     typed(webhookConfigurationColumns, mutatingWebhookRow),
	"ValidatingWebhookConfiguration":   typed(webhookConfigurationColumns, validatingWebhookRow),
	"ValidatingAdmissionPolicy":        typed(validatingAdmissionPolicyColumns, validatingAdmissionPolicyRow),
	"ValidatingAdmissionPolicyBinding": typed(admissionPolicyBindingColumns, validatingAdmissionPolicyBindingRow),
	"MutatingAdmissionPolicy":          typed(mutatingAdmissionPolicyColumns, mutatingAdmissionPolicyRow),
	"MutatingAdmissionPolicyBinding":   typed(admissionPolicyBindingColumns, mutatingAdmissionPolicyBindingRow),
	"FlowSchema":                       typed(flowSchemaColumns, flowSchemaRow),
	"PriorityLevelConfiguration":       typed(priorityLevelColumns, priorityLevelRow),
	"DeviceClass":                      typed(nameAgeColumns, deviceClassRow),
	"ResourceClaim":                    typed(resourceClaimColumns, resourceClaimRow),
	"ResourceClaimTemplate":            typed(nameAgeColumns, resourceClaimTemplateRow),
	"ResourceSlice":                    typed(resourceSliceColumns, resourceSliceRow),
	"DeviceTaintRule":                  typed(nameAgeColumns, deviceTaintRuleRow),
	"StorageVersionMigration":          typed(storageVersionMigrationColumns, storageVersionMigrationRow),
	"CustomResourceDefinition":         typed(crdColumns, crdRow),
	"APIService":                       typed(apiServiceColumns, apiServiceRow),
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
