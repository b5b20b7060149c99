package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestAntiAffinityLabelIndex checks matchesOn, which answers from the
// node's label index, against a plain scan of the node's pods.
func TestAntiAffinityLabelIndex(t *testing.T) {
	c := cacheWith([]*corev1.Node{mkNode("a", "4", "8Gi")},
		mkPod("x", onNode("a"), podLabels("app", "web")),
		mkPod("y", onNode("a"), podLabels("tier", "front")),
		mkPod("z", onNode("a"), podLabels("app", "db"), inNamespace("other")),
	)
	n := c.nodes["a"]
	tests := []struct {
		name string
		pod  *corev1.Pod
		want bool
	}{
		{"single label present", mkPod("p", antiAffinity(HostnameLabel, "app", "web")), true},
		{"single label absent", mkPod("p", antiAffinity(HostnameLabel, "app", "api")), false},
		{"labels split over two pods do not match", mkPod("p", antiAffinity(HostnameLabel, "app", "web", "tier", "front")), false},
		{"label in another namespace", mkPod("p", antiAffinity(HostnameLabel, "app", "db")), false},
		{"label in the pod's own other namespace", mkPod("p", inNamespace("other"), antiAffinity(HostnameLabel, "app", "db")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cand, err := newCandidate(tt.pod)
			if err != nil {
				t.Fatal(err)
			}
			term := &cand.anti[0]
			scan := false
			for _, p := range n.pods {
				scan = scan || term.matches(p)
			}
			if got := term.matchesOn(n); got != tt.want || scan != tt.want {
				t.Fatalf("matchesOn = %v, scan = %v, want %v", got, scan, tt.want)
			}
		})
	}
	c.RemovePod(mkPod("x"))
	cand, _ := newCandidate(mkPod("p", antiAffinity(HostnameLabel, "app", "web")))
	if cand.anti[0].matchesOn(n) {
		t.Fatalf("label index still counts a removed pod")
	}
	if len(n.labelIndex) != 2 {
		t.Fatalf("label index %v, want 2 entries left", n.labelIndex)
	}
}
