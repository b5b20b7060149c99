package replicaset

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// nameAlphabet is Kubernetes' generateName alphabet: lowercase consonants
// and digits, so that no words (or look-alike characters) appear.
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

const (
	suffixLength = 5
	maxNameLen   = 63
)

// newPods builds n pods from rs's template with fresh names not in used.
func (p Planner) newPods(rs *appsv1.ReplicaSet, n int, used map[string]bool) ([]*corev1.Pod, error) {
	if p.Rand == nil {
		return nil, fmt.Errorf("replicaset %s/%s: planner has no random source", rs.Namespace, rs.Name)
	}
	out := make([]*corev1.Pod, 0, n)
	for i := 0; i < n; i++ {
		name := p.freshName(rs.Name, used)
		used[name] = true
		pod := PodFromTemplate(rs, name)
		pod.OwnerReferences = []metav1.OwnerReference{p.ref(rs)}
		out = append(out, pod)
	}
	return out, nil
}

// freshName returns base-xxxxx not yet in used.
func (p Planner) freshName(base string, used map[string]bool) string {
	if len(base) > maxNameLen-suffixLength-1 {
		base = base[:maxNameLen-suffixLength-1]
	}
	for {
		b := make([]byte, suffixLength)
		for i := range b {
			b[i] = nameAlphabet[p.Rand.IntN(len(nameAlphabet))]
		}
		name := base + "-" + string(b)
		if !used[name] {
			return name
		}
	}
}

// PodFromTemplate builds the pod named name that rs would create: the
// template's labels, annotations, finalizers and spec, in rs's namespace,
// controlled by rs.
func PodFromTemplate(rs *appsv1.ReplicaSet, name string) *corev1.Pod {
	t := rs.Spec.Template.DeepCopy()
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       rs.Namespace,
			Labels:          t.Labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{ControllerRef(rs)},
		},
		Spec: t.Spec,
	}
}
