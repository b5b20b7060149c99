package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

// percentile returns the p-th percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return sorted[i]
}

func cmJSON(name string, n int) []byte {
	data, _ := json.Marshal(&corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": "bench"}},
		Data:       map[string]string{"n": strconv.Itoa(n), "payload": "abcdefghijklmnopqrstuvwxyz0123456789"},
	})
	return data
}

// BenchmarkWritePath measures apply through the whole write path as a
// remote client sees it: CLI-style client over loopback TCP → NATS → API
// → defaulting, validation, optimistic-concurrency append → JetStream ack
// → response. Each operation changes an object, so each one appends.
//
// Each --fsync mode runs side by side: group (the default: every
// acknowledged write on disk, concurrent writes sharing fsyncs), always
// (one fsync per write) and interval (no fsync before the ack).
func BenchmarkWritePath(b *testing.B) {
	for _, mode := range app.FsyncModes {
		b.Run("fsync="+mode, func(b *testing.B) { benchWritePath(b, mode) })
	}
}

func benchWritePath(b *testing.B, mode string) {
	for _, clients := range []int{1, 64} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			d := clustertest.StartStromd(b, func(c *app.Config) { c.Logger = zap.NewNop(); c.Fsync = mode })
			conns := adminClients(b, d, clients)
			lat := make([][]time.Duration, clients)
			b.ResetTimer()
			elapsed := applyLoad(b, conns, b.N, lat)
			b.StopTimer()
			var all []time.Duration
			for _, l := range lat {
				all = append(all, l...)
			}
			sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
			b.ReportMetric(float64(percentile(all, 0.50).Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(percentile(all, 0.99).Microseconds())/1000, "p99-ms")
		})
	}
}

// applyLoad applies n ConfigMap updates through conns, each client
// cycling over 50 ConfigMaps of its own so every apply appends, and
// returns how long it took; lat, if not nil, gets each client's
// latencies.
func applyLoad(b *testing.B, conns []*api.Client, n int, lat [][]time.Duration) time.Duration {
	b.Helper()
	ctx := context.Background()
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				obj := cmJSON("cm-"+strconv.Itoa(c)+"-"+strconv.Itoa(int(i%50)), int(i))
				t := time.Now()
				if _, err := conns[c].Do(ctx, api.VerbApply, &api.Request{Object: obj, Namespace: "default"}); err != nil {
					b.Error(err)
					return
				}
				if lat != nil {
					lat[c] = append(lat[c], time.Since(t))
				}
			}
		}(c)
	}
	wg.Wait()
	return time.Since(start)
}

// adminClients dials n clients of d, each on its own connection as the
// CLI is.
func adminClients(b *testing.B, d *app.Stromd, n int) []*api.Client {
	conns := make([]*api.Client, n)
	for i := range conns {
		conns[i] = clustertest.AdminClient(b, d)
	}
	return conns
}

// history fills a stream with n events: objects/updates pods, each event a
// realistic ~1.3 KB pod, published straight to JetStream (the write path's
// own cost is measured above; this builds a long history fast).
func history(b *testing.B, js jetstream.JetStream, n, objectCount int) {
	b.Helper()
	ctx := context.Background()
	base := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Labels: map[string]string{"app": "web", "pod-template-hash": "7d4b9c"},
			Annotations: map[string]string{"note": "benchmark pod with a realistic size"}},
		Spec: corev1.PodSpec{NodeName: "node-1", Containers: []corev1.Container{{
			Name: "web", Image: "strom.test/httpserver:1", Command: []string{"/httpserver", "--port=8080"},
			Env:            []corev1.EnvVar{{Name: "MODE", Value: "bench"}, {Name: "LOG", Value: "info"}},
			Ports:          []corev1.ContainerPort{{ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
			Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("128Mi")}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz"}}, PeriodSeconds: 10},
		}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.42.0.17", HostIP: "10.0.0.1"},
	}
	pending := 0
	for i := 0; i < n; i++ {
		obj := i % objectCount
		base.Name = "web-" + strconv.Itoa(obj)
		base.UID = types.UID("uid-" + strconv.Itoa(obj))
		base.Status.Message = strconv.Itoa(i)
		data, _ := json.Marshal(base)
		typ := events.TypeStatusUpdated
		if i < objectCount {
			typ = events.TypeCreated
		}
		ev := &events.Event{ID: "b" + strconv.Itoa(i), Type: typ, Resource: "pods", Namespace: "default", Name: base.Name,
			UID: string(base.UID), Actor: "bench", Time: time.Unix(0, 0), Labels: base.Labels, NodeName: "node-1", Object: data}
		msg, err := events.EncodeMsg(ev, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := js.PublishMsgAsync(msg); err != nil {
			b.Fatal(err)
		}
		if pending++; pending == 1000 {
			select {
			case <-js.PublishAsyncComplete():
			case <-time.After(60 * time.Second):
				b.Fatal("async publish stalled")
			}
			pending = 0
		}
	}
	<-js.PublishAsyncComplete()
	_ = ctx
}

func eventCount() int {
	if v := os.Getenv("STROM_BENCH_EVENTS"); v != "" {
		n, _ := strconv.Atoi(v)
		return n
	}
	return 1_000_000
}

// BenchmarkProjectionRebuild folds the whole log into a fresh view with no
// snapshot: the rebuild rate.
func BenchmarkProjectionRebuild(b *testing.B) {
	n := eventCount()
	l := logtest.StartLog(b, clock.RealClock{})
	history(b, l.JS, n, n/10)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		p, err := projections.New(ctx, projections.Config{JetStream: l.JS, Sealer: l.Sealer})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := p.Start(ctx); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		if got := p.Store().LastSeq(); got != uint64(n) {
			b.Fatalf("rebuilt to #%d, want #%d", got, n)
		}
		cancel()
		b.ReportMetric(float64(n)/el.Seconds(), "events/s")
	}
}

// BenchmarkRestartToServing restarts a whole stromd (embedded NATS
// recovering its file store, snapshot load, tail replay, API up) over a
// log of 1,000,000 events, and times until a read is answered.
func BenchmarkRestartToServing(b *testing.B) {
	n := eventCount()
	dir := b.TempDir()
	cfg := app.Config{DataDir: dir, Listen: "127.0.0.1:0", NoAgent: true, NodeName: "bench", Logger: zap.NewNop()}
	d, err := app.Start(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	history(b, d.JetStream(), n, n/10)
	// The projection follows; snapshot once it has caught up, as the
	// periodic snapshotter would have done. Leave a 5,000-event tail.
	logtest.Eventually(b, 5*time.Minute, func() error {
		if s := d.Projection().Store().LastSeq(); s < uint64(n) {
			return fmt.Errorf("projection at #%d", s)
		}
		return nil
	})
	if _, err := d.Projection().WriteSnapshot(context.Background()); err != nil {
		b.Fatal(err)
	}
	history(b, d.JetStream(), 5000, 5000)
	d.Stop()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		d, err := app.Start(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		c := clustertest.AdminClient(b, d)
		if _, err := c.Do(context.Background(), api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: "web-1"}); err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		b.ReportMetric(el.Seconds(), "s-to-serving")
		b.StopTimer()
		c.Close()
		d.Stop()
		b.StartTimer()
	}
}
