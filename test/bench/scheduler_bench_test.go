package bench

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/schedulerctl"
	"github.com/strom-project/strom/test/clustertest"
)

// BenchmarkSchedulingE2E measures scheduling throughput end to end through
// the log: pods are created with the write path (in parallel), the
// scheduler controller running in stromd sees them through the
// projection, decides, and writes the binding; a pod counts once its
// bound version has been applied by the projection. Nodes are hollow:
// registered directly with the writer, Ready, without agents (their
// heartbeats and pod status reports are not part of what is measured).
//
//	go test ./test/bench -run '^$' -bench SchedulingE2E -benchtime 1x
//
// STROM_BENCH_NODES / STROM_BENCH_PODS override the sizes (e.g. 5000).
func BenchmarkSchedulingE2E(b *testing.B) {
	nodeCounts := []int{1000, 5000}
	if v := os.Getenv("STROM_BENCH_NODES"); v != "" {
		var n int
		fmt.Sscanf(v, "%d", &n)
		nodeCounts = []int{n}
	}
	pods := 10000
	if v := os.Getenv("STROM_BENCH_PODS"); v != "" {
		fmt.Sscanf(v, "%d", &pods)
	}
	for _, nodes := range nodeCounts {
		b.Run(fmt.Sprintf("stream/nodes=%d/pods=%d", nodes, pods), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runSchedulingE2E(b, nodes, pods)
			}
		})
		b.Run(fmt.Sprintf("backlog/nodes=%d/pods=%d", nodes, pods), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runSchedulingBacklog(b, nodes, pods)
			}
		})
	}
}

// runSchedulingBacklog creates every pod first with no scheduler running,
// then starts the scheduler controller and measures how fast it drains
// the backlog: the scheduler's own throughput through the log, not
// bounded by how fast pods are created.
func runSchedulingBacklog(b *testing.B, nodes, pods int) {
	d := clustertest.StartStromd(b, func(c *app.Config) {
		c.Logger = zap.NewNop()
		c.NoControllers = true
	})
	w := d.Writer()
	st := d.Projection().Store()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	opts := events.WriteOptions{Actor: "bench"}
	parallel(b, nodes, 32, func(i int) error {
		_, err := w.Create(ctx, benchNode(fmt.Sprintf("hollow-%05d", i)), opts)
		return err
	})
	parallel(b, pods, 64, func(i int) error {
		_, err := w.Create(ctx, benchPod(fmt.Sprintf("p-%05d", i)), opts)
		return err
	})
	last, err := events.LastSeq(ctx, d.JetStream())
	if err != nil {
		b.Fatal(err)
	}
	if err := st.WaitFor(ctx, last); err != nil {
		b.Fatal(err)
	}
	watch, _ := st.Watch(ctx, projections.Query{Resource: "pods"})
	defer watch.Stop()
	env := manager.Env{Store: st, Writer: w, Clock: clock.RealClock{}, Logger: zap.NewNop()}
	sched := schedulerctl.New(env, schedulerctl.Options{})
	m := manager.New(env, manager.Options{})
	m.Add(sched)
	start := time.Now()
	go func() { _ = m.Run(ctx) }()
	bound := 0
	deadline := time.After(5 * time.Minute)
	for bound < pods {
		select {
		case we, ok := <-watch.C:
			if !ok {
				b.Fatalf("watch closed after %d bindings: %v", bound, watch.Err())
			}
			if we.Event.NodeName != "" && we.Event.Type != events.TypeDeleted {
				bound++
			}
		case <-deadline:
			b.Fatalf("only %d of %d pods bound after 5 minutes", bound, pods)
		}
	}
	total := time.Since(start)
	rate := float64(pods) / total.Seconds()
	b.ReportMetric(rate, "pods/s")
	b.Logf("backlog: nodes=%d pods=%d: scheduler drained the backlog in %v: %.0f pods/s end to end (includes building the cache from the Store); Scheduled Events dropped %d",
		nodes, pods, total.Round(time.Millisecond), rate, sched.EventsDropped())
}

func runSchedulingE2E(b *testing.B, nodes, pods int) {
	var workers int
	if v := os.Getenv("STROM_BENCH_WORKERS"); v != "" {
		fmt.Sscanf(v, "%d", &workers)
	}
	var sched *schedulerctl.Reconciler
	d := clustertest.StartStromd(b, func(c *app.Config) {
		c.Logger = zap.NewNop()
		c.Reconcilers = func(env manager.Env) ([]manager.Reconciler, error) {
			sched = schedulerctl.New(env, schedulerctl.Options{Workers: workers})
			return []manager.Reconciler{sched}, nil
		}
	})
	w := d.Writer()
	st := d.Projection().Store()
	ctx := context.Background()
	opts := events.WriteOptions{Actor: "bench"}

	t0 := time.Now()
	parallel(b, nodes, 32, func(i int) error {
		_, err := w.Create(ctx, benchNode(fmt.Sprintf("hollow-%05d", i)), opts)
		return err
	})
	b.Logf("%d nodes registered in %v", nodes, time.Since(t0).Round(time.Millisecond))

	// Count bindings as the projection applies them.
	watch, _ := st.Watch(ctx, projections.Query{Resource: "pods"})
	defer watch.Stop()
	var bound atomic.Int64
	var lastBound atomic.Int64 // unix nanos
	seen := make(map[string]bool, pods+1)
	done := make(chan struct{})
	probeBound := make(chan struct{})
	go func() {
		defer close(done)
		for we := range watch.C {
			if we.Event.NodeName == "" || we.Event.Type == events.TypeDeleted || seen[we.Event.Name] {
				continue
			}
			seen[we.Event.Name] = true
			if we.Event.Name == "probe" {
				close(probeBound)
				continue
			}
			lastBound.Store(time.Now().UnixNano())
			if bound.Add(1) == int64(pods) {
				return
			}
		}
	}()
	// The scheduler runs once this stromd leads: wait for a first binding.
	if _, err := w.Create(ctx, benchPod("probe"), opts); err != nil {
		b.Fatal(err)
	}
	select {
	case <-probeBound:
	case <-time.After(60 * time.Second):
		b.Fatal("probe pod not bound within 60 s")
	}

	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	parallel(b, pods, 64, func(i int) error {
		_, err := w.Create(ctx, benchPod(fmt.Sprintf("p-%05d", i)), opts)
		return err
	})
	created := time.Since(start)
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("only %d of %d pods bound after 5 minutes (watch err %v)", bound.Load(), pods, watch.Err())
	}
	if err := watch.Err(); err != nil && bound.Load() < int64(pods) {
		b.Fatalf("watch closed: %v", err)
	}
	total := time.Unix(0, lastBound.Load()).Sub(start)
	runtime.ReadMemStats(&m1)
	rate := float64(pods) / total.Seconds()
	b.ReportMetric(rate, "pods/s")
	b.ReportMetric(float64(pods)/created.Seconds(), "created/s")
	b.Logf("nodes=%d pods=%d: created in %v (%.0f/s), all bound after %v: %.0f pods/s end to end; GC cycles %d; GOMAXPROCS %d; scheduler workers %d; Scheduled Events dropped %d",
		nodes, pods, created.Round(time.Millisecond), float64(pods)/created.Seconds(), total.Round(time.Millisecond), rate,
		m1.NumGC-m0.NumGC, runtime.GOMAXPROCS(0), sched.Workers(), sched.EventsDropped())
	// Every binding respects capacity: count pods per node from the view.
	perNode := map[string]int{}
	items, _ := st.List(projections.Query{Resource: "pods"})
	for _, e := range items {
		if e.NodeName == "" {
			b.Fatalf("pod %s unbound at the end", e.Name)
		}
		perNode[e.NodeName]++
	}
	for n, c := range perNode {
		if c > 110 {
			b.Fatalf("node %s has %d pods, capacity 110", n, c)
		}
	}
}

// parallel runs fn(0..n-1) on workers goroutines; the first error fails b.
func parallel(b *testing.B, n, workers int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var firstErr atomic.Value
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := firstErr.Load().(error); err != nil {
		b.Fatal(err)
	}
}

func benchNode(name string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse("32"), corev1.ResourceMemory: resource.MustParse("64Gi"), corev1.ResourcePods: resource.MustParse("110"),
	}
	now := metav1.Now()
	return &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity,
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", LastHeartbeatTime: now, LastTransitionTime: now}}},
	}
}

func benchPod(name string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"app": "bench"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m"), corev1.ResourceMemory: resource.MustParse("10Mi")}}}}},
	}
}
