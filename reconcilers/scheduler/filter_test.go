package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// byNode groups bound pods by node for the functional Schedule.
func byNode(pods []*corev1.Pod) map[string][]*corev1.Pod {
	m := map[string][]*corev1.Pod{}
	for _, p := range pods {
		m[p.Spec.NodeName] = append(m[p.Spec.NodeName], p)
	}
	return m
}

func TestFilters(t *testing.T) {
	big := func(name string, opts ...nodeOpt) *corev1.Node { return mkNode(name, "4", "8Gi", opts...) }
	tests := []struct {
		name     string
		nodes    []*corev1.Node
		existing []*corev1.Pod
		pod      *corev1.Pod
		want     string // node name, or "" when wantErr is set
		wantErr  string
	}{
		{
			name:  "cordoned node is skipped",
			nodes: []*corev1.Node{big("a", cordoned), big("b")},
			pod:   mkPod("p"), want: "b",
		},
		{
			name:    "cordoned everywhere",
			nodes:   []*corev1.Node{big("a", cordoned)},
			pod:     mkPod("p"),
			wantErr: "0/1 nodes are available: 1 node(s) were unschedulable.",
		},
		{
			name:  "cordon tolerated",
			nodes: []*corev1.Node{big("a", cordoned)},
			pod:   mkPod("p", tolerate(TaintNodeUnschedulable, "", corev1.TolerationOpExists, corev1.TaintEffectNoSchedule)),
			want:  "a",
		},
		{
			name:    "not ready",
			nodes:   []*corev1.Node{big("a", notReady)},
			pod:     mkPod("p"),
			wantErr: "0/1 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }.",
		},
		{
			name:  "node without conditions is not ready",
			nodes: []*corev1.Node{big("a", func(n *corev1.Node) { n.Status.Conditions = nil }), big("b")},
			pod:   mkPod("p"), want: "b",
		},
		{
			name:  "not ready tolerated",
			nodes: []*corev1.Node{big("a", notReady)},
			pod:   mkPod("p", tolerate(TaintNodeNotReady, "", corev1.TolerationOpExists, "")),
			want:  "a",
		},
		{
			name:    "NoSchedule taint blocks",
			nodes:   []*corev1.Node{big("a", withTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule))},
			pod:     mkPod("p"),
			wantErr: "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.",
		},
		{
			name:    "NoExecute taint blocks",
			nodes:   []*corev1.Node{big("a", withTaint("k", "v", corev1.TaintEffectNoExecute))},
			pod:     mkPod("p"),
			wantErr: "0/1 nodes are available: 1 node(s) had untolerated taint {k: v}.",
		},
		{
			name:  "PreferNoSchedule does not block",
			nodes: []*corev1.Node{big("a", withTaint("k", "v", corev1.TaintEffectPreferNoSchedule))},
			pod:   mkPod("p"), want: "a",
		},
		{
			name:  "taint tolerated with Equal",
			nodes: []*corev1.Node{big("a", withTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule))},
			pod:   mkPod("p", tolerate("dedicated", "gpu", corev1.TolerationOpEqual, corev1.TaintEffectNoSchedule)),
			want:  "a",
		},
		{
			name:    "toleration with wrong value",
			nodes:   []*corev1.Node{big("a", withTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule))},
			pod:     mkPod("p", tolerate("dedicated", "db", corev1.TolerationOpEqual, "")),
			wantErr: "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}.",
		},
		{
			name:    "toleration with wrong effect",
			nodes:   []*corev1.Node{big("a", withTaint("k", "v", corev1.TaintEffectNoExecute))},
			pod:     mkPod("p", tolerate("k", "", corev1.TolerationOpExists, corev1.TaintEffectNoSchedule)),
			wantErr: "0/1 nodes are available: 1 node(s) had untolerated taint {k: v}.",
		},
		{
			name:  "empty key Exists tolerates everything",
			nodes: []*corev1.Node{big("a", withTaint("k", "v", corev1.TaintEffectNoExecute), cordoned, notReady)},
			pod:   mkPod("p", tolerate("", "", corev1.TolerationOpExists, "")),
			want:  "a",
		},
		{
			name:  "nodeSelector",
			nodes: []*corev1.Node{big("a", withLabels("disk", "hdd")), big("b", withLabels("disk", "ssd"))},
			pod:   mkPod("p", nodeSelector("disk", "ssd")), want: "b",
		},
		{
			name:    "nodeSelector matches nothing",
			nodes:   []*corev1.Node{big("a"), big("b", withLabels("disk", "hdd"))},
			pod:     mkPod("p", nodeSelector("disk", "ssd")),
			wantErr: "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
		},
		{
			name:  "affinity In",
			nodes: []*corev1.Node{big("a", withLabels("zone", "z1")), big("b", withLabels("zone", "z2"))},
			pod:   mkPod("p", requiredNodeAffinity(expr("zone", corev1.NodeSelectorOpIn, "z2", "z3"))), want: "b",
		},
		{
			name:  "affinity NotIn (absent label matches)",
			nodes: []*corev1.Node{big("a", withLabels("zone", "z1")), big("b")},
			pod:   mkPod("p", requiredNodeAffinity(expr("zone", corev1.NodeSelectorOpNotIn, "z1"))), want: "b",
		},
		{
			name:  "affinity Exists",
			nodes: []*corev1.Node{big("a"), big("b", withLabels("gpu", ""))},
			pod:   mkPod("p", requiredNodeAffinity(expr("gpu", corev1.NodeSelectorOpExists))), want: "b",
		},
		{
			name:  "affinity DoesNotExist",
			nodes: []*corev1.Node{big("a", withLabels("gpu", "")), big("b")},
			pod:   mkPod("p", requiredNodeAffinity(expr("gpu", corev1.NodeSelectorOpDoesNotExist))), want: "b",
		},
		{
			name:  "affinity Gt",
			nodes: []*corev1.Node{big("a", withLabels("cores", "16")), big("b", withLabels("cores", "32")), big("c", withLabels("cores", "x"))},
			pod:   mkPod("p", requiredNodeAffinity(expr("cores", corev1.NodeSelectorOpGt, "16"))), want: "b",
		},
		{
			name:    "affinity Gt and Lt are strict",
			nodes:   []*corev1.Node{big("a", withLabels("cores", "16"))},
			pod:     mkPod("p", requiredNodeAffinity(expr("cores", corev1.NodeSelectorOpGt, "16"), expr("cores", corev1.NodeSelectorOpLt, "16"))),
			wantErr: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
		},
		{
			name:  "affinity Lt",
			nodes: []*corev1.Node{big("a", withLabels("cores", "16")), big("b", withLabels("cores", "8"))},
			pod:   mkPod("p", requiredNodeAffinity(expr("cores", corev1.NodeSelectorOpLt, "16"))), want: "b",
		},
		{
			name:  "affinity terms are ORed",
			nodes: []*corev1.Node{big("a", withLabels("zone", "z1")), big("b", withLabels("disk", "ssd"))},
			pod: mkPod("p", requiredNodeAffinity(expr("zone", corev1.NodeSelectorOpIn, "z9"),
				expr("disk", corev1.NodeSelectorOpIn, "ssd"))),
			want: "b",
		},
		{
			name:  "matchFields metadata.name",
			nodes: []*corev1.Node{big("a"), big("b")},
			pod: mkPod("p", requiredNodeAffinity(corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
				{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"b"}}}})),
			want: "b",
		},
		{
			name:    "empty term matches nothing",
			nodes:   []*corev1.Node{big("a")},
			pod:     mkPod("p", requiredNodeAffinity(corev1.NodeSelectorTerm{})),
			wantErr: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.",
		},
		{
			name:    "invalid Gt value is a pre-filter error",
			nodes:   []*corev1.Node{big("a")},
			pod:     mkPod("p", requiredNodeAffinity(expr("cores", corev1.NodeSelectorOpGt, "many"))),
			wantErr: `0/1 nodes are available: required node affinity term 0: requirement cores Gt: strconv.ParseInt: parsing "many": invalid syntax.`,
		},
		{
			name:     "host port conflict",
			nodes:    []*corev1.Node{big("a"), big("b")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), hostPortOpt(8080, corev1.ProtocolTCP, ""))},
			pod:      mkPod("p", hostPortOpt(8080, "", "")), want: "b",
		},
		{
			name:     "host port: other protocol is free",
			nodes:    []*corev1.Node{big("a")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), hostPortOpt(53, corev1.ProtocolTCP, ""))},
			pod:      mkPod("p", hostPortOpt(53, corev1.ProtocolUDP, "")), want: "a",
		},
		{
			name:     "host port: distinct host IPs are free",
			nodes:    []*corev1.Node{big("a")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), hostPortOpt(80, "", "10.0.0.1"))},
			pod:      mkPod("p", hostPortOpt(80, "", "10.0.0.2")), want: "a",
		},
		{
			name:     "host port: wildcard conflicts with a specific IP",
			nodes:    []*corev1.Node{big("a")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), hostPortOpt(80, "", "10.0.0.1"))},
			pod:      mkPod("p", hostPortOpt(80, "", "0.0.0.0")),
			wantErr:  "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports.",
		},
		{
			name:     "insufficient cpu and memory counted separately",
			nodes:    []*corev1.Node{mkNode("a", "1", "1Gi"), mkNode("b", "4", "1Gi"), mkNode("c", "1", "8Gi")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), requests("500m", "512Mi"))},
			pod:      mkPod("p", requests("2", "2Gi")),
			wantErr:  "0/3 nodes are available: 2 Insufficient cpu, 2 Insufficient memory.",
		},
		{
			name:     "requests add up on a node",
			nodes:    []*corev1.Node{mkNode("a", "1", "8Gi"), mkNode("b", "1", "8Gi")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), requests("600m", ""))},
			pod:      mkPod("p", requests("500m", "")), want: "b",
		},
		{
			name:     "finished pods free their resources",
			nodes:    []*corev1.Node{mkNode("a", "1", "8Gi")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), requests("1", ""), func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded })},
			pod:      mkPod("p", requests("1", "")), want: "a",
		},
		{
			name:     "too many pods",
			nodes:    []*corev1.Node{big("a", withPodCapacity("1"))},
			existing: []*corev1.Pod{mkPod("x", onNode("a"))},
			pod:      mkPod("p"),
			wantErr:  "0/1 nodes are available: 1 Too many pods.",
		},
		{
			name:  "extended resource",
			nodes: []*corev1.Node{big("a"), big("b", withAllocatable("example.com/gpu", "2"))},
			pod: mkPod("p", func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": resourceQ("1")}
			}),
			want: "b",
		},
		{
			name:     "anti-affinity of the pod (hostname)",
			nodes:    []*corev1.Node{big("a"), big("b")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), podLabels("app", "web"))},
			pod:      mkPod("p", podLabels("app", "web"), antiAffinity(HostnameLabel, "app", "web")), want: "b",
		},
		{
			name:     "anti-affinity of the pod, nowhere left",
			nodes:    []*corev1.Node{big("a")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), podLabels("app", "web"))},
			pod:      mkPod("p", antiAffinity(HostnameLabel, "app", "web")),
			wantErr:  "0/1 nodes are available: 1 node(s) didn't match pod anti-affinity rules.",
		},
		{
			name:     "anti-affinity only looks in the pod's namespace",
			nodes:    []*corev1.Node{big("a")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), podLabels("app", "web"), inNamespace("other"))},
			pod:      mkPod("p", antiAffinity(HostnameLabel, "app", "web")), want: "a",
		},
		{
			name:     "existing pod's anti-affinity repels the pod",
			nodes:    []*corev1.Node{big("a"), big("b")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), antiAffinity(HostnameLabel, "app", "web"))},
			pod:      mkPod("p", podLabels("app", "web")), want: "b",
		},
		{
			name:     "existing pod's anti-affinity, nowhere left",
			nodes:    []*corev1.Node{big("a")},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), antiAffinity(HostnameLabel, "app", "web"))},
			pod:      mkPod("p", podLabels("app", "web")),
			wantErr:  "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.",
		},
		{
			name:     "zone anti-affinity blocks the whole zone",
			nodes:    []*corev1.Node{big("a", withLabels("zone", "z1")), big("b", withLabels("zone", "z1")), big("c", withLabels("zone", "z2"))},
			existing: []*corev1.Pod{mkPod("x", onNode("a"), podLabels("app", "db"))},
			pod:      mkPod("p", antiAffinity("zone", "app", "db")), want: "c",
		},
		{
			name:     "existing zone anti-affinity blocks the whole zone",
			nodes:    []*corev1.Node{big("a", withLabels("zone", "z1")), big("b", withLabels("zone", "z1")), big("c", withLabels("zone", "z2"))},
			existing: []*corev1.Pod{mkPod("x", onNode("b"), antiAffinity("zone", "app", "db"))},
			pod:      mkPod("p", podLabels("app", "db")), want: "c",
		},
		{
			name: "reasons are counted and sorted",
			nodes: []*corev1.Node{
				mkNode("a", "1", "8Gi"), mkNode("b", "1", "8Gi"),
				big("c", withTaint("dedicated", "gpu", corev1.TaintEffectNoSchedule)),
			},
			pod:     mkPod("p", requests("2", "")),
			wantErr: "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu.",
		},
		{
			name:    "no nodes",
			pod:     mkPod("p"),
			wantErr: "0/0 nodes are available: no nodes available to schedule pods.",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fe := Schedule(tt.pod, tt.nodes, byNode(tt.existing))
			check := func(how string, got string, fe *FitError) {
				t.Helper()
				if tt.wantErr != "" {
					if fe == nil {
						t.Fatalf("%s: scheduled on %q, want error %q", how, got, tt.wantErr)
					}
					if fe.Error() != tt.wantErr {
						t.Fatalf("%s: error\n got %q\nwant %q", how, fe.Error(), tt.wantErr)
					}
					return
				}
				if fe != nil {
					t.Fatalf("%s: unexpected error %v", how, fe)
				}
				if got != tt.want {
					t.Fatalf("%s: scheduled on %q, want %q", how, got, tt.want)
				}
			}
			check("Schedule", got, fe)
			c := cacheWith(tt.nodes, tt.existing...)
			got, fe = c.Schedule(tt.pod)
			check("Cache.Schedule", got, fe)
		})
	}
}
