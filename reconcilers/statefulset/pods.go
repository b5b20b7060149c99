package statefulset

import (
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/reconcilers/history"
)

const (
	// PodNameLabel names a StatefulSet pod on itself (for per-pod
	// Services).
	PodNameLabel = appsv1.StatefulSetPodNameLabel
	// PodIndexLabel carries a pod's ordinal.
	PodIndexLabel = appsv1.PodIndexLabel
)

// ControllerRef is the owner reference of ss's pods.
func ControllerRef(ss *appsv1.StatefulSet) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: ss.Name, UID: ss.UID, Controller: &t, BlockOwnerDeletion: &t}
}

// PodName is the name of ss's pod with ordinal.
func PodName(ss *appsv1.StatefulSet, ordinal int) string {
	return ss.Name + "-" + strconv.Itoa(ordinal)
}

// ClaimName is the name of the claim of template for ss's pod ordinal.
func ClaimName(template string, ss *appsv1.StatefulSet, ordinal int) string {
	return template + "-" + PodName(ss, ordinal)
}

// Ordinal is the ordinal of ss's pod, or -1 when its name is not
// <set>-<ordinal>.
func Ordinal(ss *appsv1.StatefulSet, pod *corev1.Pod) int {
	rest, ok := strings.CutPrefix(pod.Name, ss.Name+"-")
	if !ok || rest == "" || (len(rest) > 1 && rest[0] == '0') {
		return -1
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// Revision is the revision name a pod was made from.
func Revision(pod *corev1.Pod) string { return pod.Labels[history.HashLabel] }

// newPod builds ss's pod with ordinal from template, labelled with the
// revision rev, mounting the set's claims.
func newPod(ss *appsv1.StatefulSet, t *corev1.PodTemplateSpec, ordinal int, rev string) *corev1.Pod {
	t = t.DeepCopy()
	name := PodName(ss, ordinal)
	labels := make(map[string]string, len(t.Labels)+3)
	for k, v := range t.Labels {
		labels[k] = v
	}
	labels[PodNameLabel] = name
	labels[PodIndexLabel] = strconv.Itoa(ordinal)
	if rev != "" {
		labels[history.HashLabel] = rev
	}
	spec := t.Spec
	spec.Hostname = name
	spec.Subdomain = ss.Spec.ServiceName
	// A template volume named like a claim template is replaced by the
	// claim, as Kubernetes does.
	var vols []corev1.Volume
	claims := map[string]bool{}
	for _, c := range ss.Spec.VolumeClaimTemplates {
		claims[c.Name] = true
		vols = append(vols, corev1.Volume{Name: c.Name, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: ClaimName(c.Name, ss, ordinal)}}})
	}
	for _, v := range spec.Volumes {
		if !claims[v.Name] {
			vols = append(vols, v)
		}
	}
	spec.Volumes = vols
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       ss.Namespace,
			Labels:          labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{ControllerRef(ss)},
		},
		Spec: spec,
	}
}

// newClaim builds the claim of template c for ss's pod ordinal, owned as
// whenDeleted says: by the set for Delete, by nobody for Retain.
func newClaim(ss *appsv1.StatefulSet, c *corev1.PersistentVolumeClaim, ordinal int) *corev1.PersistentVolumeClaim {
	pvc := &corev1.PersistentVolumeClaim{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PersistentVolumeClaim"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        ClaimName(c.Name, ss, ordinal),
			Namespace:   ss.Namespace,
			Labels:      map[string]string{},
			Annotations: c.Annotations,
		},
		Spec: *c.Spec.DeepCopy(),
	}
	for k, v := range c.Labels {
		pvc.Labels[k] = v
	}
	if ss.Spec.Selector != nil {
		for k, v := range ss.Spec.Selector.MatchLabels {
			pvc.Labels[k] = v
		}
	}
	if p := ss.Spec.PersistentVolumeClaimRetentionPolicy; p != nil && p.WhenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
		pvc.OwnerReferences = []metav1.OwnerReference{setRef(ss)}
	}
	return pvc
}

// setRef is the non-controller reference of a claim to its set.
func setRef(ss *appsv1.StatefulSet) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "StatefulSet", Name: ss.Name, UID: ss.UID}
}

// podRef is the non-controller reference of a claim to the pod that
// scales away with it.
func podRef(pod *corev1.Pod) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}
}

func hasRef(refs []metav1.OwnerReference, uid string) bool {
	for _, r := range refs {
		if string(r.UID) == uid {
			return true
		}
	}
	return false
}
