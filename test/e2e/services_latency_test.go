package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/agent/proxy"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/logtest"
)

// Endpoint change → rules programmed, end to end through the log: a pod
// readiness status write, the endpoints reconciler, the service feed,
// the agent's proxier, iptables-restore in the node's netns. The pods
// are bound to a node without an agent, so the test alone writes their
// status. Detection polls iptables-save in the node netns (a few ms per
// poll, included in the numbers). Results: docs/bench/services-e2e.md.
// A benchmark, not a test: latency is measured and reported, never
// asserted (run it with `go test -run '^$' -bench ServiceRuleLatency`).
func BenchmarkServiceRuleLatency(b *testing.B) {
	for _, mode := range []string{proxy.ModeIPTables, proxy.ModeNFTables} {
		b.Run(mode, func(b *testing.B) { benchServiceRuleLatency(b, mode) })
	}
}

func benchServiceRuleLatency(b *testing.B, mode string) {
	var t testing.TB = b
	n := startServiceNode(t, mode)
	ctx := context.Background()
	n.apply(t, `apiVersion: v1
kind: Service
metadata: {name: bench}
spec:
  selector: {app: bench}
  ports: [{port: 80, targetPort: 8080}]
`)
	const pods = 4
	for i := 0; i < pods; i++ {
		n.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: ghost-%d, labels: {app: bench}}
spec:
  nodeName: ghost
  containers: [{name: c, image: strom.test/httpserver:1}]
`, i))
	}
	setReady := func(i int, ready bool) time.Time {
		t.Helper()
		var p corev1.Pod
		resp, err := n.admin.Do(ctx, api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: fmt.Sprintf("ghost-%d", i)})
		if err != nil || json.Unmarshal(resp.Object, &p) != nil {
			t.Fatalf("get ghost-%d: %v", i, err)
		}
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		p.Status.Phase = corev1.PodRunning
		p.Status.PodIP = fmt.Sprintf("10.42.200.%d", 10+i)
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.Now()}}
		data, _ := json.Marshal(&p)
		if _, err := n.admin.Do(ctx, api.VerbStatus, &api.Request{Object: data, Namespace: "default"}); err != nil {
			t.Fatalf("status of ghost-%d: %v", i, err)
		}
		return time.Now()
	}
	// Warm up: one round trip before measuring.
	setReady(0, true)
	logtest.Eventually(t, 10*time.Second, func() error { return n.rulesMention("10.42.200.10", true) })
	setReady(0, false)
	logtest.Eventually(t, 10*time.Second, func() error { return n.rulesMention("10.42.200.10", false) })

	// Back to back (each change right after the previous one was seen,
	// so the proxier's 100 ms minimum sync interval shows), then spaced
	// 150 ms apart (the pipeline's own cost).
	for _, run := range []struct {
		name   string
		rounds int
		gap    time.Duration
	}{{"back-to-back", 25, 0}, {"spaced 150ms", 10, 150 * time.Millisecond}} {
		var samples []time.Duration
		for r := 0; r < run.rounds; r++ {
			for i := 0; i < pods; i++ {
				for _, ready := range []bool{true, false} {
					time.Sleep(run.gap)
					start := setReady(i, ready)
					ip := fmt.Sprintf("10.42.200.%d", 10+i)
					deadline := start.Add(5 * time.Second)
					for n.rulesMention(ip, ready) != nil {
						if time.Now().After(deadline) {
							t.Fatalf("%s round %d pod %d ready=%v: rules not programmed within 5 s", run.name, r, i, ready)
						}
						time.Sleep(2 * time.Millisecond)
					}
					samples = append(samples, time.Since(start))
				}
			}
		}
		sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
		q := func(f float64) time.Duration { return samples[int(f*float64(len(samples)-1))] }
		t.Logf("%s: endpoint change → rules programmed, %d samples: p50 %v p90 %v p99 %v max %v",
			run.name, len(samples), q(0.5), q(0.9), q(0.99), samples[len(samples)-1])
		unit := map[string]string{"back-to-back": "b2b", "spaced 150ms": "spaced"}[run.name]
		b.ReportMetric(float64(q(0.5).Microseconds())/1000, unit+"-p50-ms")
		b.ReportMetric(float64(q(0.99).Microseconds())/1000, unit+"-p99-ms")
	}
}
