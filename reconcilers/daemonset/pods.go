package daemonset

import (
	"fmt"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/reconcilers/history"
)

const (
	// TemplateGenerationLabel is the label carrying the template
	// generation a pod was made from.
	TemplateGenerationLabel = "pod-template-generation"
	// TemplateGenerationAnnotation is where Kubernetes' API server keeps a
	// DaemonSet's template generation.
	TemplateGenerationAnnotation = "deprecated.daemonset.template.generation"
)

// nameAlphabet is Kubernetes' generateName alphabet.
const nameAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// TemplateGeneration is ds's template generation: Kubernetes' annotation
// when set, else the set's generation (every template change bumps it).
func TemplateGeneration(ds *appsv1.DaemonSet) int64 {
	if v, ok := ds.Annotations[TemplateGenerationAnnotation]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
	}
	return ds.Generation
}

// IsUpdated reports whether pod was made from ds's current template: its
// revision hash or its template generation label matches.
func IsUpdated(pod *corev1.Pod, hash string, generation int64) bool {
	if hash != "" && pod.Labels[history.HashLabel] == hash {
		return true
	}
	return generation > 0 && pod.Labels[TemplateGenerationLabel] == strconv.FormatInt(generation, 10)
}

// ControllerRef is the owner reference of ds's pods.
func ControllerRef(ds *appsv1.DaemonSet) metav1.OwnerReference {
	t := true
	return metav1.OwnerReference{APIVersion: "apps/v1", Kind: "DaemonSet", Name: ds.Name, UID: ds.UID, Controller: &t, BlockOwnerDeletion: &t}
}

// newPod builds ds's pod for node named name: the template with the
// revision labels, the daemon tolerations and an affinity for the node.
func newPod(ds *appsv1.DaemonSet, name, node, hash string) *corev1.Pod {
	t := ds.Spec.Template.DeepCopy()
	labels := make(map[string]string, len(t.Labels)+2)
	for k, v := range t.Labels {
		labels[k] = v
	}
	if g := TemplateGeneration(ds); g > 0 {
		labels[TemplateGenerationLabel] = strconv.FormatInt(g, 10)
	}
	if hash != "" {
		labels[history.HashLabel] = hash
	}
	spec := t.Spec
	spec.Tolerations = Tolerations(&t.Spec)
	spec.Affinity = NodeAffinity(t.Spec.Affinity, node)
	return &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       ds.Namespace,
			Labels:          labels,
			Annotations:     t.Annotations,
			Finalizers:      t.Finalizers,
			OwnerReferences: []metav1.OwnerReference{ControllerRef(ds)},
		},
		Spec: spec,
	}
}

// freshName returns <base>-xxxxx not in used.
func (p Planner) freshName(base string, used map[string]bool) (string, error) {
	if p.Rand == nil {
		return "", fmt.Errorf("daemonset planner has no random source")
	}
	const suffix = 5
	if len(base) > 63-suffix-1 {
		base = base[:63-suffix-1]
	}
	for {
		b := make([]byte, suffix)
		for i := range b {
			b[i] = nameAlphabet[p.Rand.IntN(len(nameAlphabet))]
		}
		if name := base + "-" + string(b); !used[name] {
			used[name] = true
			return name, nil
		}
	}
}

// byAge orders a node's pods as Kubernetes does to pick the one to keep:
// bound pods first, then oldest, then by name.
func byAge(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

func terminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}
