package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestExportedPredicates(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{"disk": "ssd"}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	byName := func(name string) *corev1.PodSpec {
		return &corev1.PodSpec{Affinity: &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{name}}}}}}}}}
	}
	for _, tc := range []struct {
		name string
		spec *corev1.PodSpec
		want bool
	}{
		{"no constraint", &corev1.PodSpec{}, true},
		{"nodeSelector matches", &corev1.PodSpec{NodeSelector: map[string]string{"disk": "ssd"}}, true},
		{"nodeSelector differs", &corev1.PodSpec{NodeSelector: map[string]string{"disk": "hdd"}}, false},
		{"matchFields this node", byName("n1"), true},
		{"matchFields another node", byName("n2"), false},
	} {
		got, err := MatchesNodeSelector(tc.spec, node)
		if err != nil || got != tc.want {
			t.Errorf("%s: got %v %v, want %v", tc.name, got, err, tc.want)
		}
	}
	if taints := NodeTaints(node); len(taints) != 0 {
		t.Errorf("ready node taints %v", taints)
	}
	node.Spec.Unschedulable = true
	node.Status.Conditions = nil
	taints := NodeTaints(node)
	if len(taints) != 2 || taints[0].Key != TaintNodeUnschedulable || taints[1].Key != TaintNodeNotReady {
		t.Fatalf("cordoned, not ready node taints %v", taints)
	}
	if !Tolerated([]corev1.Toleration{{Key: TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}, &taints[0]) {
		t.Error("Exists toleration does not tolerate")
	}
}
