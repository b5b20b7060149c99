package printers

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

func (d *describer) deployment(dep *appsv1.Deployment) {
	d.w(0, "Name:\t%s\n", dep.Name)
	d.w(0, "Namespace:\t%s\n", dep.Namespace)
	d.w(0, "CreationTimestamp:\t%s\n", rfc1123(dep.CreationTimestamp))
	d.labels("", "Labels", dep.Labels)
	d.annotations("", "Annotations", dep.Annotations)
	selector := "<error>"
	if s, err := metav1.LabelSelectorAsSelector(dep.Spec.Selector); err == nil {
		selector = s.String()
	}
	d.w(0, "Selector:\t%s\n", selector)
	st := dep.Status
	d.w(0, "Replicas:\t%d desired | %d updated | %d total | %d available | %d unavailable\n",
		int32Or(dep.Spec.Replicas, 1), st.UpdatedReplicas, st.Replicas, st.AvailableReplicas, st.UnavailableReplicas)
	d.w(0, "StrategyType:\t%s\n", dep.Spec.Strategy.Type)
	d.w(0, "MinReadySeconds:\t%d\n", dep.Spec.MinReadySeconds)
	if ru := dep.Spec.Strategy.RollingUpdate; ru != nil {
		d.w(0, "RollingUpdateStrategy:\t%s max unavailable, %s max surge\n", intOrStringPtr(ru.MaxUnavailable), intOrStringPtr(ru.MaxSurge))
	}
	d.podTemplate(&dep.Spec.Template)
	if len(st.Conditions) > 0 {
		d.w(0, "Conditions:\n  Type\tStatus\tReason\n")
		d.w(1, "----\t------\t------\n")
		for _, c := range st.Conditions {
			d.w(1, "%s \t%s\t%s\n", c.Type, c.Status, c.Reason)
		}
	}
	if d.rel.ReplicaSets != nil {
		oldRSs, newRS := splitReplicaSets(dep, d.rel.ReplicaSets)
		d.w(0, "OldReplicaSets:\t%s\n", replicaSetList(oldRSs))
		var newRSs []*appsv1.ReplicaSet
		if newRS != nil {
			newRSs = append(newRSs, newRS)
		}
		d.w(0, "NewReplicaSet:\t%s\n", replicaSetList(newRSs))
	}
	d.events()
}

// splitReplicaSets finds a deployment's current replica set (the oldest
// whose pod template equals the deployment's, ignoring the
// pod-template-hash label) and all its others, oldest first, as kubectl
// lists them. Only replica sets the deployment controls count.
func splitReplicaSets(dep *appsv1.Deployment, all []*appsv1.ReplicaSet) (old []*appsv1.ReplicaSet, current *appsv1.ReplicaSet) {
	var owned []*appsv1.ReplicaSet
	for _, rs := range all {
		if ref := metav1.GetControllerOf(rs); ref != nil && ownedBy(ref, dep.UID, dep.Name) {
			owned = append(owned, rs)
		}
	}
	sortStable(owned, func(a, b *appsv1.ReplicaSet) bool {
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
	for _, rs := range owned {
		if current == nil && templatesEqualIgnoringHash(&rs.Spec.Template, &dep.Spec.Template) {
			current = rs
		}
	}
	for _, rs := range owned {
		if rs != current {
			old = append(old, rs)
		}
	}
	return old, current
}

func ownedBy(ref *metav1.OwnerReference, uid types.UID, name string) bool {
	if uid != "" && ref.UID != "" {
		return ref.UID == uid
	}
	return ref.Name == name
}

func templatesEqualIgnoringHash(a, b *corev1.PodTemplateSpec) bool {
	strip := func(t *corev1.PodTemplateSpec) *corev1.PodTemplateSpec {
		c := t.DeepCopy()
		delete(c.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		if len(c.Labels) == 0 {
			c.Labels = nil
		}
		return c
	}
	return equality.Semantic.DeepEqual(strip(a), strip(b))
}

// replicaSetList is "web-abc (3/3 replicas created)", or "<none>".
func replicaSetList(rss []*appsv1.ReplicaSet) string {
	var out []string
	for _, rs := range rss {
		out = append(out, fmt.Sprintf("%s (%d/%d replicas created)", rs.Name, rs.Status.Replicas, int32Or(rs.Spec.Replicas, 1)))
	}
	return orNone(strings.Join(out, ", "))
}

func (d *describer) replicaSet(rs *appsv1.ReplicaSet) {
	d.w(0, "Name:\t%s\n", rs.Name)
	d.w(0, "Namespace:\t%s\n", rs.Namespace)
	d.w(0, "Selector:\t%s\n", selectorString(rs.Spec.Selector))
	d.labels("", "Labels", rs.Labels)
	d.annotations("", "Annotations", rs.Annotations)
	if c := controllerOf(rs); c != "" {
		d.w(0, "Controlled By:\t%s\n", c)
	}
	d.w(0, "Replicas:\t%d current / %d desired\n", rs.Status.Replicas, int32Or(rs.Spec.Replicas, 1))
	running, waiting, succeeded, failed := podPhases(rs, d.rel.Pods)
	d.w(0, "Pods Status:\t%d Running / %d Waiting / %d Succeeded / %d Failed\n", running, waiting, succeeded, failed)
	d.podTemplate(&rs.Spec.Template)
	if len(rs.Status.Conditions) > 0 {
		d.w(0, "Conditions:\n  Type\tStatus\tReason\n")
		d.w(1, "----\t------\t------\n")
		for _, c := range rs.Status.Conditions {
			d.w(1, "%s \t%s\t%s\n", c.Type, c.Status, c.Reason)
		}
	}
	d.events()
}

// podPhases counts, by phase, the pods in the replica set's namespace
// that its selector matches and that it controls, as kubectl does.
func podPhases(rs *appsv1.ReplicaSet, pods []*corev1.Pod) (running, waiting, succeeded, failed int) {
	s, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
	if err != nil {
		return
	}
	for _, p := range pods {
		if p.Namespace != rs.Namespace || !s.Matches(labels.Set(p.Labels)) {
			continue
		}
		if ref := metav1.GetControllerOf(p); ref == nil || !ownedBy(ref, rs.UID, rs.Name) {
			continue
		}
		switch p.Status.Phase {
		case corev1.PodRunning:
			running++
		case corev1.PodPending:
			waiting++
		case corev1.PodSucceeded:
			succeeded++
		case corev1.PodFailed:
			failed++
		}
	}
	return
}
