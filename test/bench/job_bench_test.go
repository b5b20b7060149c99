package bench

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/zap"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// BenchmarkJobCompletions runs one Job of 10,000 completions, 100 at a
// time, on hollow nodes (agents in this process whose pods run for 10 ms
// and exit 0), with stromd's built-in controllers: the Job controller
// creates each pod, the scheduler binds it, the node reports it Running
// then Succeeded, the Job controller counts it (uncounted, finalizer
// removed, counted). It reports completions per second from the Job's
// creation to its Complete condition.
//
//	go test ./test/bench -run '^$' -bench JobCompletions -benchtime 1x
//
// STROM_BENCH_COMPLETIONS / STROM_BENCH_NODES override the sizes.
func BenchmarkJobCompletions(b *testing.B) {
	completions, nodes := 10000, 10
	if v := os.Getenv("STROM_BENCH_COMPLETIONS"); v != "" {
		fmt.Sscanf(v, "%d", &completions)
	}
	if v := os.Getenv("STROM_BENCH_NODES"); v != "" {
		fmt.Sscanf(v, "%d", &nodes)
	}
	b.Run(fmt.Sprintf("completions=%d/parallelism=100/nodes=%d", completions, nodes), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runJobBench(b, int32(completions), 100, nodes)
		}
	})
}

func runJobBench(b *testing.B, completions, parallelism int32, nodes int) {
	d := clustertest.StartStromd(b, func(c *app.Config) {
		c.Logger = zap.NewNop()
		c.Reconcilers = app.BuiltinReconcilers(app.ReconcilerOptions{})
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startHollowNodes(b, ctx, d, nodes, "hollow-%02d", time.Minute, 2*time.Second, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"),
		corev1.ResourceMemory: resource.MustParse("256Gi"), corev1.ResourcePods: resource.MustParse("110")})
	st := d.Projection().Store()
	waitUntil(b, 30*time.Second, func() bool { return st.Count("nodes") == nodes })
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: "bench", Namespace: "default"},
		Spec: batchv1.JobSpec{Completions: &completions, Parallelism: &parallelism,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{agent.HollowRunForAnnotation: "10ms"}},
				Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
					Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}},
	}
	start := time.Now()
	if _, err := d.Writer().Create(ctx, job, events.WriteOptions{Actor: "bench"}); err != nil {
		b.Fatal(err)
	}
	var last int32
	lastAt := start
	waitUntil(b, 20*time.Minute, func() bool {
		e, ok := st.Get("jobs", "default", "bench")
		if !ok {
			return false
		}
		obj, err := e.Object()
		if err != nil {
			b.Fatal(err)
		}
		j := obj.(*batchv1.Job)
		if j.Status.Succeeded != last {
			last, lastAt = j.Status.Succeeded, time.Now()
		} else if time.Since(lastAt) > time.Minute {
			b.Fatalf("stuck at %d succeeded: %+v", last, j.Status)
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	})
	took := time.Since(start)
	rate := float64(completions) / took.Seconds()
	b.ReportMetric(rate, "completions/s")
	b.Logf("job: %d completions, parallelism %d, %d hollow nodes: Complete after %v: %.0f completions/s; log at seq %d",
		completions, parallelism, nodes, took.Round(time.Millisecond), rate, st.LastSeq())
}

func waitUntil(b *testing.B, timeout time.Duration, ok func() bool) {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			b.Fatalf("not done after %v", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startHollowNodes runs n hollow node agents in this process over one
// admin connection (hollow nodes of many names need the admin's config),
// named by format, until the benchmark ends; ctx's end stops them, and
// the cleanup waits for that.
func startHollowNodes(b *testing.B, ctx context.Context, d *app.Stromd, n int, format string, resync, heartbeat time.Duration, capacity corev1.ResourceList) {
	b.Helper()
	cfg, err := api.LoadConfig(d.AdminConfig)
	if err != nil {
		b.Fatal(err)
	}
	ac, err := api.Dial(cfg)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			done <- agent.Run(ctx, agent.Config{NodeName: fmt.Sprintf(format, i), NodeIP: "10.0.0.1", Client: ac, Conn: ac.Conn(),
				Resync: resync, Heartbeat: heartbeat, Logger: zap.NewNop(), Capacity: capacity})
		}()
	}
	b.Cleanup(func() {
		<-ctx.Done()
		for i := 0; i < n; i++ {
			<-done
		}
		ac.Close()
	})
}
