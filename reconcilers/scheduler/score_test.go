package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestScores(t *testing.T) {
	tests := []struct {
		name     string
		nodes    []*corev1.Node
		existing []*corev1.Pod
		pod      *corev1.Pod
		want     string
	}{
		{
			name:     "least allocated prefers the emptier node",
			nodes:    []*corev1.Node{mkNode("a", "4", "8Gi"), mkNode("b", "4", "8Gi")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), requests("2", "4Gi"))},
			pod:      mkPod("p", requests("1", "1Gi")), want: "b",
		},
		{
			name:     "least allocated counts default requests of best-effort pods",
			nodes:    []*corev1.Node{mkNode("a", "1", "1Gi"), mkNode("b", "1", "1Gi")},
			existing: []*corev1.Pod{mkPod("x", onNode("b")), mkPod("y", onNode("b"))},
			pod:      mkPod("p"), want: "a",
		},
		{
			name:  "least allocated prefers the bigger node",
			nodes: []*corev1.Node{mkNode("a", "2", "4Gi"), mkNode("b", "16", "64Gi")},
			pod:   mkPod("p", requests("1", "1Gi")), want: "b",
		},
		{
			name:  "spread away from pods of the same owner",
			nodes: []*corev1.Node{mkNode("a", "4", "8Gi"), mkNode("b", "4", "8Gi")},
			// b is fuller, but a already runs a replica of the same set.
			existing: []*corev1.Pod{
				mkPod("x", onNode("a"), ownedBy("rs1")),
				mkPod("y", onNode("b"), requests("500m", "1Gi"), ownedBy("other")),
			},
			pod:  mkPod("p", ownedBy("rs1")),
			want: "b",
		},
		{
			name:  "preferred node affinity",
			nodes: []*corev1.Node{mkNode("a", "16", "64Gi"), mkNode("b", "4", "8Gi", withLabels("disk", "ssd"))},
			pod:   mkPod("p", preferredNodeAffinity(50, expr("disk", corev1.NodeSelectorOpIn, "ssd"))),
			want:  "b",
		},
		{
			name: "heavier preferred term wins",
			nodes: []*corev1.Node{
				mkNode("a", "4", "8Gi", withLabels("disk", "ssd")),
				mkNode("b", "4", "8Gi", withLabels("zone", "z1")),
			},
			pod: mkPod("p",
				preferredNodeAffinity(10, expr("disk", corev1.NodeSelectorOpIn, "ssd")),
				preferredNodeAffinity(80, expr("zone", corev1.NodeSelectorOpIn, "z1"))),
			want: "b",
		},
		{
			name: "PreferNoSchedule taint is penalised",
			nodes: []*corev1.Node{
				mkNode("a", "16", "64Gi", withTaint("spot", "true", corev1.TaintEffectPreferNoSchedule)),
				mkNode("b", "4", "8Gi"),
			},
			pod:  mkPod("p"),
			want: "b",
		},
		{
			name: "tolerated PreferNoSchedule taint is not penalised",
			nodes: []*corev1.Node{
				mkNode("a", "16", "64Gi", withTaint("spot", "true", corev1.TaintEffectPreferNoSchedule)),
				mkNode("b", "4", "8Gi"),
			},
			pod:  mkPod("p", tolerate("spot", "true", corev1.TolerationOpEqual, corev1.TaintEffectPreferNoSchedule)),
			want: "a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fe := Schedule(tt.pod, tt.nodes, byNode(tt.existing))
			if fe != nil {
				t.Fatalf("unexpected error: %v", fe)
			}
			if got != tt.want {
				t.Fatalf("scheduled on %q, want %q", got, tt.want)
			}
		})
	}
}

func TestScoreFunctions(t *testing.T) {
	if got := freeFraction(250, 1000); got != 75 {
		t.Errorf("freeFraction(250,1000) = %d, want 75", got)
	}
	if got := freeFraction(2000, 1000); got != 0 {
		t.Errorf("overcommitted freeFraction = %d, want 0", got)
	}
	if got := reversed(1, 4); got != 75 {
		t.Errorf("reversed(1,4) = %d, want 75", got)
	}
	if got := reversed(0, 0); got != 100 {
		t.Errorf("reversed(0,0) = %d, want 100", got)
	}
	c := cacheWith([]*corev1.Node{mkNode("a", "4", "8Gi")}, mkPod("x", onNode("a"), requests("1", "2Gi")))
	cand, err := newCandidate(mkPod("p", requests("1", "2Gi")))
	if err != nil {
		t.Fatal(err)
	}
	cy := c.newCycle(cand)
	if got := cy.leastAllocated(c.nodes["a"]); got != 50 { // cpu 2/4 free, memory 4/8 free
		t.Errorf("leastAllocated = %d, want 50", got)
	}
}

func TestTiesAreBrokenDeterministicallyButSpread(t *testing.T) {
	var nodes []*corev1.Node
	for i := 0; i < 10; i++ {
		nodes = append(nodes, mkNode(fmt.Sprintf("n%d", i), "4", "8Gi"))
	}
	chosen := map[string]int{}
	for i := 0; i < 100; i++ {
		pod := mkPod(fmt.Sprintf("p%d", i))
		a, fe := Schedule(pod, nodes, nil)
		if fe != nil {
			t.Fatal(fe)
		}
		b, _ := Schedule(pod, nodes, nil)
		if a != b {
			t.Fatalf("pod %s: %s then %s: not deterministic", pod.Name, a, b)
		}
		chosen[a]++
	}
	if len(chosen) < 5 {
		t.Fatalf("100 different pods on 10 equal nodes used only %d nodes: %v", len(chosen), chosen)
	}
}

func TestReplicasSpreadAcrossNodes(t *testing.T) {
	var nodes []*corev1.Node
	for i := 0; i < 5; i++ {
		nodes = append(nodes, mkNode(fmt.Sprintf("n%d", i), "8", "16Gi"))
	}
	c := cacheWith(nodes)
	for i := 0; i < 10; i++ {
		p := mkPod(fmt.Sprintf("web-%d", i), requests("100m", "100Mi"), ownedBy("rs-web"))
		name, fe := c.Schedule(p)
		if fe != nil {
			t.Fatal(fe)
		}
		p.Spec.NodeName = name
		c.AddPod(p)
	}
	for _, n := range nodes {
		if got := len(c.nodes[n.Name].pods); got != 2 {
			t.Errorf("node %s has %d replicas, want 2 (even spread)", n.Name, got)
		}
	}
}
