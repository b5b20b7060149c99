package scheduler

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Pure predicates for controllers that decide placement themselves (the
// DaemonSet controller decides which nodes get a pod, then lets the
// scheduler place it): the same rules the filter applies.

// MatchesNodeSelector reports whether node satisfies spec's nodeSelector
// and required node affinity (matchExpressions on labels, matchFields on
// metadata.name). An affinity the scheduler cannot compile is an error.
func MatchesNodeSelector(spec *corev1.PodSpec, node *corev1.Node) (bool, error) {
	for k, v := range spec.NodeSelector {
		if got, ok := node.Labels[k]; !ok || got != v {
			return false, nil
		}
	}
	a := spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true, nil
	}
	for i, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		t, err := compileNodeTerm(&term)
		if err != nil {
			return false, fmt.Errorf("required node affinity term %d: %w", i, err)
		}
		if t.matches(node.Name, node.Labels) {
			return true, nil
		}
	}
	return false, nil
}

// Tolerated reports whether any of tols tolerates taint.
func Tolerated(tols []corev1.Toleration, taint *corev1.Taint) bool { return toleratedBy(tols, taint) }

// NodeTaints are the taints the filter holds against node: its spec's
// taints, plus node.kubernetes.io/unschedulable:NoSchedule when it is
// cordoned and node.kubernetes.io/not-ready:NoSchedule while its Ready
// condition is not True (what Kubernetes' TaintNodesByCondition puts on
// the node itself).
func NodeTaints(node *corev1.Node) []corev1.Taint {
	out := append([]corev1.Taint(nil), node.Spec.Taints...)
	if node.Spec.Unschedulable {
		out = append(out, unschedulableTaint)
	}
	ready := false
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			ready = c.Status == corev1.ConditionTrue
		}
	}
	if !ready {
		out = append(out, notReadyTaint)
	}
	return out
}
