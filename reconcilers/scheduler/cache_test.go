package scheduler

import (
	"fmt"
	"math/rand/v2"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCacheIncrementalUpdates(t *testing.T) {
	c := cacheWith([]*corev1.Node{mkNode("a", "1", "1Gi")})
	x := mkPod("x", onNode("a"), requests("800m", "100Mi"), hostPortOpt(80, "", ""))
	c.AddPod(x)
	c.AddPod(x) // re-adding the same pod replaces it
	if r, _ := c.Requested("a"); r.MilliCPU != 800 || r.Pods != 1 {
		t.Fatalf("after AddPod twice: requested %+v, want 800m and 1 pod", r)
	}
	p := mkPod("p", requests("500m", ""))
	if _, fe := c.Schedule(p); fe == nil || fe.Error() != "0/1 nodes are available: 1 Insufficient cpu." {
		t.Fatalf("want Insufficient cpu, got %v", fe)
	}
	c.RemovePod(x)
	if r, _ := c.Requested("a"); r.MilliCPU != 0 || r.Pods != 0 {
		t.Fatalf("after RemovePod: requested %+v", r)
	}
	if got, fe := c.Schedule(mkPod("q", hostPortOpt(80, "", ""))); fe != nil || got != "a" {
		t.Fatalf("host port not released: %q %v", got, fe)
	}
	// UpdateNode: cordon, then uncordon.
	n := mkNode("a", "1", "1Gi", cordoned)
	c.UpdateNode(n)
	if _, fe := c.Schedule(p); fe == nil {
		t.Fatalf("cordoned node still used")
	}
	c.UpdateNode(mkNode("a", "1", "1Gi"))
	if got, fe := c.Schedule(p); fe != nil || got != "a" {
		t.Fatalf("uncordoned node not used: %q %v", got, fe)
	}
	// A pod bound to an unknown node is counted once the node appears.
	c.AddPod(mkPod("early", onNode("b"), requests("1", "")))
	if c.NumNodes() != 1 {
		t.Fatalf("placeholder node listed: NumNodes = %d", c.NumNodes())
	}
	c.UpdateNode(mkNode("b", "1", "1Gi"))
	if r, _ := c.Requested("b"); r.MilliCPU != 1000 {
		t.Fatalf("pod that arrived before its node not counted: %+v", r)
	}
	c.RemoveNode("a")
	if got, fe := c.Schedule(mkPod("z", requests("100m", ""))); fe == nil {
		t.Fatalf("scheduled on %q though a is gone and b is full", got)
	} else if fe.NumAllNodes != 1 {
		t.Fatalf("NumAllNodes = %d, want 1", fe.NumAllNodes)
	}
	// Moving a pod to finished releases it.
	done := mkPod("early", onNode("b"), requests("1", ""))
	done.Status.Phase = corev1.PodFailed
	c.AddPod(done)
	if c.NumPods() != 0 {
		t.Fatalf("finished pod still counted: %d pods", c.NumPods())
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	tests := []struct{ n, pct, want int }{
		{50, 0, 50},
		{100, 0, 100}, // 50%, but at least 100
		{1000, 0, 420},
		{5000, 0, 500},
		{6000, 0, 300},
		{200, 0, 100},
		{5000, 100, 5000},
		{5000, 30, 1500},
		{20000, 0, 1000},
	}
	for _, tt := range tests {
		if got := NumFeasibleNodesToFind(tt.n, tt.pct); got != tt.want {
			t.Errorf("NumFeasibleNodesToFind(%d, %d) = %d, want %d", tt.n, tt.pct, got, tt.want)
		}
	}
}

func TestSearchRotatesThroughNodes(t *testing.T) {
	var nodes []*corev1.Node
	for i := 0; i < 1000; i++ {
		nodes = append(nodes, mkNode(fmt.Sprintf("n%04d", i), "64", "256Gi"))
	}
	c := cacheWith(nodes)
	used := map[string]bool{}
	for i := 0; i < 30; i++ {
		p := mkPod(fmt.Sprintf("p%d", i), requests("10m", "10Mi"))
		name, fe := c.Schedule(p)
		if fe != nil {
			t.Fatal(fe)
		}
		used[name] = true
		p.Spec.NodeName = name
		c.AddPod(p)
	}
	// Each search looks at 420 nodes starting where the last stopped; the
	// pods must not all land in the first 420.
	late := 0
	for n := range used {
		var i int
		fmt.Sscanf(n, "n%d", &i)
		if i >= 420 {
			late++
		}
	}
	if late == 0 {
		t.Fatalf("all pods landed in the first 420 nodes: search does not rotate")
	}
}

func TestSamplingStillFindsTheOnlyFeasibleNode(t *testing.T) {
	var nodes []*corev1.Node
	for i := 0; i < 5000; i++ {
		nodes = append(nodes, mkNode(fmt.Sprintf("n%04d", i), "1", "1Gi"))
	}
	nodes[4321].Labels["special"] = "yes"
	c := cacheWith(nodes)
	got, fe := c.Schedule(mkPod("p", nodeSelector("special", "yes")))
	if fe != nil || got != "n4321" {
		t.Fatalf("got %q %v, want n4321", got, fe)
	}
	_, fe = c.Schedule(mkPod("q", requests("2", "")))
	if fe == nil || fe.Error() != "0/5000 nodes are available: 5000 Insufficient cpu." {
		t.Fatalf("want every node examined in the error, got %v", fe)
	}
}

// TestCacheAgreesWithFunctionalSchedule builds random clusters and checks
// that the incremental cache (with every node scored) and the one-shot
// Schedule decide the same, so the incremental sums are right.
func TestCacheAgreesWithFunctionalSchedule(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		var nodes []*corev1.Node
		for i := 0; i < 15; i++ {
			var opts []nodeOpt
			if r.IntN(5) == 0 {
				opts = append(opts, withTaint("t", "v", corev1.TaintEffectPreferNoSchedule))
			}
			if r.IntN(3) == 0 {
				opts = append(opts, withLabels("zone", fmt.Sprintf("z%d", r.IntN(3))))
			}
			nodes = append(nodes, mkNode(fmt.Sprintf("n%d", i), fmt.Sprint(1+r.IntN(4)), fmt.Sprintf("%dGi", 1+r.IntN(8)), opts...))
		}
		c := cacheWith(nodes)
		c.PercentageOfNodesToScore = 100
		var bound []*corev1.Pod
		for i := 0; i < 60; i++ {
			opts := []podOpt{requests(fmt.Sprintf("%dm", 50+r.IntN(500)), fmt.Sprintf("%dMi", 50+r.IntN(500))), ownedBy(fmt.Sprintf("rs%d", r.IntN(3)))}
			if r.IntN(4) == 0 {
				opts = append(opts, hostPortOpt(int32(8000+r.IntN(3)), "", ""))
			}
			if r.IntN(4) == 0 {
				opts = append(opts, podLabels("app", "x"), antiAffinity(HostnameLabel, "app", "x"))
			}
			p := mkPod(fmt.Sprintf("p%d-%d", round, i), opts...)
			want, wantErr := Schedule(p, nodes, byNode(bound))
			got, gotErr := c.Schedule(p)
			if got != want || (wantErr == nil) != (gotErr == nil) || (wantErr != nil && wantErr.Error() != gotErr.Error()) {
				t.Fatalf("round %d pod %d: cache says %q %v, Schedule says %q %v", round, i, got, gotErr, want, wantErr)
			}
			if got != "" {
				p.Spec.NodeName = got
				c.AddPod(p)
				bound = append(bound, p)
			}
			if len(bound) > 0 && r.IntN(5) == 0 { // delete a random pod
				j := r.IntN(len(bound))
				c.RemovePod(bound[j])
				bound = append(bound[:j], bound[j+1:]...)
			}
		}
	}
}
