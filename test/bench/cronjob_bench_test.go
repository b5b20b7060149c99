package bench

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/test/clustertest"
)

// BenchmarkCronJobLateness runs 1,000 CronJobs scheduled every minute
// (their Jobs' pods run 10 ms on 10 hollow nodes) with stromd's built-in
// controllers, and measures each run's lateness: from the scheduled
// minute to the moment the Job's Created event is published (seen on
// the event subject, not rounded to creationTimestamp's seconds). It
// measures the schedule minutes after every CronJob is in.
//
//	go test ./test/bench -run '^$' -bench CronJobLateness -benchtime 1x -timeout 20m
//
// STROM_BENCH_CRONJOBS / STROM_BENCH_MINUTES override the sizes.
func BenchmarkCronJobLateness(b *testing.B) {
	cronjobs, minutes := 1000, 2
	if v := os.Getenv("STROM_BENCH_CRONJOBS"); v != "" {
		fmt.Sscanf(v, "%d", &cronjobs)
	}
	if v := os.Getenv("STROM_BENCH_MINUTES"); v != "" {
		fmt.Sscanf(v, "%d", &minutes)
	}
	b.Run(fmt.Sprintf("cronjobs=%d/minutes=%d", cronjobs, minutes), func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			runCronJobBench(b, cronjobs, minutes)
		}
	})
}

func runCronJobBench(b *testing.B, cronjobs, minutes int) {
	const nodes = 10
	d := clustertest.StartStromd(b, func(c *app.Config) {
		c.Logger = zap.NewNop()
		c.Reconcilers = app.BuiltinReconcilers(app.ReconcilerOptions{})
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	startHollowNodes(b, ctx, d, nodes, "hollow-%02d", time.Minute, 2*time.Second, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("64"), corev1.ResourceMemory: resource.MustParse("256Gi"),
		corev1.ResourcePods: resource.MustParse("500")})
	st := d.Projection().Store()
	waitUntil(b, 30*time.Second, func() bool { return st.Count("nodes") == nodes })

	// Each Job's first event on its subject is its creation.
	var mu sync.Mutex
	seen := map[string]time.Time{}
	sub, err := d.Conn().Subscribe(events.KindSubjects("jobs", "default"), func(m *nats.Msg) {
		at := time.Now()
		if events.Type(m.Header.Get(events.HeaderType)) != events.TypeCreated {
			return
		}
		name := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
		mu.Lock()
		if _, ok := seen[name]; !ok {
			seen[name] = at
		}
		mu.Unlock()
	})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = sub.Unsubscribe() }()

	one, keep := int32(1), int32(1)
	for i := 0; i < cronjobs; i++ {
		cj := &batchv1.CronJob{
			TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cj-%04d", i), Namespace: "default"},
			Spec: batchv1.CronJobSpec{Schedule: "* * * * *", SuccessfulJobsHistoryLimit: &keep, FailedJobsHistoryLimit: &keep,
				JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Completions: &one,
					Template: corev1.PodTemplateSpec{
						ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{agent.HollowRunForAnnotation: "10ms"}},
						Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
							Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}}}},
		}
		if _, err := d.Writer().Create(ctx, cj, events.WriteOptions{Actor: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
	// Measure the minutes that start after every CronJob is in (and 2 s
	// for the controller to have planned them).
	first := time.Now().Add(2 * time.Second).Truncate(time.Minute).Add(time.Minute)
	last := first.Add(time.Duration(minutes-1) * time.Minute)
	time.Sleep(time.Until(last.Add(30 * time.Second)))

	mu.Lock()
	defer mu.Unlock()
	var late []time.Duration
	missing := 0
	for m := first; !m.After(last); m = m.Add(time.Minute) {
		suffix := "-" + strconv.FormatInt(m.Unix()/60, 10)
		for i := 0; i < cronjobs; i++ {
			at, ok := seen[fmt.Sprintf("cj-%04d", i)+suffix]
			if !ok {
				missing++
				continue
			}
			late = append(late, at.Sub(m))
		}
	}
	if len(late) == 0 {
		b.Fatalf("no Job was created for the minutes %s–%s", first.Format(time.TimeOnly), last.Format(time.TimeOnly))
	}
	sort.Slice(late, func(i, j int) bool { return late[i] < late[j] })
	q := func(p float64) time.Duration { return late[int(p*float64(len(late)-1))] }
	b.ReportMetric(float64(q(0.5).Milliseconds()), "p50-ms")
	b.ReportMetric(float64(q(0.99).Milliseconds()), "p99-ms")
	b.ReportMetric(float64(late[len(late)-1].Milliseconds()), "max-ms")
	b.Logf("cronjob: %d CronJobs every minute, %d minute(s) from %s: %d runs, %d missing (not created 30 s after their minute); lateness p50 %v, p99 %v, max %v; log at seq %d",
		cronjobs, minutes, first.Format(time.TimeOnly), len(late), missing, q(0.5).Round(time.Millisecond), q(0.99).Round(time.Millisecond),
		late[len(late)-1].Round(time.Millisecond), st.LastSeq())
	if missing > 0 {
		b.Errorf("%d scheduled runs were never created", missing)
	}
}
