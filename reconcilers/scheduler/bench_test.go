package scheduler

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// benchCluster returns n uniform nodes in 3 zones, some with a
// PreferNoSchedule taint.
func benchCluster(n int) []*corev1.Node {
	nodes := make([]*corev1.Node, n)
	for i := range nodes {
		opts := []nodeOpt{withLabels("topology.kubernetes.io/zone", fmt.Sprintf("z%d", i%3))}
		if i%10 == 0 {
			opts = append(opts, withTaint("spot", "true", corev1.TaintEffectPreferNoSchedule))
		}
		nodes[i] = mkNode(fmt.Sprintf("node-%05d", i), "8", "32Gi", opts...)
	}
	return nodes
}

// benchPods returns count pods of 100 ReplicaSets; with anti set, every
// fourth set asks for one replica per node.
func benchPods(count int, anti bool) []*corev1.Pod {
	pods := make([]*corev1.Pod, count)
	for i := range pods {
		rs := i % 100
		opts := []podOpt{requests("100m", "128Mi"), ownedBy(fmt.Sprintf("rs-%d", rs)), podLabels("app", fmt.Sprintf("app-%d", rs))}
		if anti && rs%4 == 0 {
			opts = append(opts, antiAffinity(HostnameLabel, "app", fmt.Sprintf("app-%d", rs)))
		}
		pods[i] = mkPod(fmt.Sprintf("pod-%05d", i), opts...)
	}
	return pods
}

func benchmarkSchedule(b *testing.B, nodes, pods int, anti bool) {
	cluster := benchCluster(nodes)
	work := benchPods(pods, anti)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := cacheWith(cluster)
		for _, p := range work {
			p.Spec.NodeName = ""
		}
		b.StartTimer()
		for _, p := range work {
			name, fe := c.Schedule(p)
			if fe != nil {
				b.Fatalf("pod %s: %v", p.Name, fe)
			}
			p.Spec.NodeName = name
			c.AddPod(p)
		}
	}
	b.ReportMetric(float64(pods*b.N)/b.Elapsed().Seconds(), "pods/s")
}

func BenchmarkSchedule10kPods1kNodes(b *testing.B) { benchmarkSchedule(b, 1000, 10000, false) }
func BenchmarkSchedule10kPods5kNodes(b *testing.B) { benchmarkSchedule(b, 5000, 10000, false) }
func BenchmarkSchedule10kPods5kNodesAntiAffinity(b *testing.B) {
	benchmarkSchedule(b, 5000, 10000, true)
}

// BenchmarkScheduleOneShot1kNodes measures the functional Schedule, which
// rebuilds a cache from nodes and 5,000 bound pods on every call.
func BenchmarkScheduleOneShot1kNodes(b *testing.B) {
	nodes := benchCluster(1000)
	bound := benchPods(5000, false)
	byNode := map[string][]*corev1.Pod{}
	for i, p := range bound {
		n := nodes[i%len(nodes)].Name
		byNode[n] = append(byNode[n], p)
	}
	pod := mkPod("new", requests("100m", "128Mi"))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, fe := Schedule(pod, nodes, byNode); fe != nil {
			b.Fatal(fe)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pods/s")
}

// BenchmarkSchedule10kPods5kNodesMostlyTainted is the filter's worst
// case: 90% of the nodes are tainted, so each pod examines about all 5,000
// nodes to find the 500 feasible ones the adaptive search wants.
func BenchmarkSchedule10kPods5kNodesMostlyTainted(b *testing.B) {
	cluster := benchCluster(5000)
	for i, n := range cluster {
		if i%10 != 0 {
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule})
		}
	}
	work := benchPods(10000, false)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c := cacheWith(cluster)
		for _, p := range work {
			p.Spec.NodeName = ""
		}
		b.StartTimer()
		for _, p := range work {
			name, fe := c.Schedule(p)
			if fe != nil {
				b.Fatalf("pod %s: %v", p.Name, fe)
			}
			p.Spec.NodeName = name
			c.AddPod(p)
		}
	}
	b.ReportMetric(float64(len(work)*b.N)/b.Elapsed().Seconds(), "pods/s")
}
