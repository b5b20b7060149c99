package daemonset

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/reconcilers/scheduler"
)

// Tolerations Kubernetes adds to every daemon pod so that it runs on
// nodes other pods avoid: not-ready and unreachable nodes (NoExecute, no
// tolerationSeconds: never evicted), pressure conditions and cordoned
// nodes (NoSchedule), and, for hostNetwork pods, nodes whose network is
// not set up.
var autoTolerations = []corev1.Toleration{
	{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
	{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
}

var networkUnavailableToleration = corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}

// Tolerations returns spec's tolerations with the daemon pod's automatic
// ones added; one with the same key, operator, value and effect is
// replaced (so a template's tolerationSeconds on them is dropped, as in
// Kubernetes).
func Tolerations(spec *corev1.PodSpec) []corev1.Toleration {
	out := append([]corev1.Toleration(nil), spec.Tolerations...)
	add := func(t corev1.Toleration) {
		for i := range out {
			if out[i].MatchToleration(&t) {
				out[i] = t
				return
			}
		}
		out = append(out, t)
	}
	for _, t := range autoTolerations {
		add(t)
	}
	if spec.HostNetwork {
		add(networkUnavailableToleration)
	}
	return out
}

// ShouldRun reports whether ds wants a pod on node (shouldRun) and
// whether a pod already there may stay (shouldContinue): a node that
// fails only on untolerated NoSchedule taints keeps its pod.
func ShouldRun(ds *appsv1.DaemonSet, node *corev1.Node) (shouldRun, shouldContinue bool) {
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return false, false
	}
	if ok, err := scheduler.MatchesNodeSelector(spec, node); err != nil || !ok {
		return false, false
	}
	tols := Tolerations(spec)
	shouldRun, shouldContinue = true, true
	for _, taint := range scheduler.NodeTaints(node) {
		if taint.Effect != corev1.TaintEffectNoSchedule && taint.Effect != corev1.TaintEffectNoExecute {
			continue
		}
		if scheduler.Tolerated(tols, &taint) {
			continue
		}
		shouldRun = false
		if taint.Effect == corev1.TaintEffectNoExecute {
			shouldContinue = false
		}
	}
	return shouldRun, shouldContinue
}

// TargetNode is the node a daemon pod is for: its spec.nodeName once
// bound, else the metadata.name its required node affinity names ("" if
// it names none).
func TargetNode(pod *corev1.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 || len(terms[0].MatchFields) != 1 {
		return ""
	}
	f := terms[0].MatchFields[0]
	if f.Key != metav1.ObjectNameField || f.Operator != corev1.NodeSelectorOpIn || len(f.Values) != 1 {
		return ""
	}
	return f.Values[0]
}

// NodeAffinity returns affinity with its required node affinity replaced
// by one term selecting node by metadata.name; affinity itself is not
// modified.
func NodeAffinity(affinity *corev1.Affinity, node string) *corev1.Affinity {
	term := corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
		{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}
	out := &corev1.Affinity{}
	if affinity != nil {
		out = affinity.DeepCopy()
	}
	if out.NodeAffinity == nil {
		out.NodeAffinity = &corev1.NodeAffinity{}
	}
	out.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{term}}
	return out
}
