package bench

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/test/clustertest"
)

// BenchmarkDaemonSetRollout runs a DaemonSet across N hollow nodes (node
// agents in this process, one NATS connection, heartbeats every 10 s)
// with stromd's built-in controllers: the time from the create until
// every node's pod is bound and Running (numberAvailable = N), then the
// time for an image change to roll out with maxUnavailable 10 %
// (updatedNumberScheduled = numberAvailable = N).
//
//	go test ./test/bench -run '^$' -bench DaemonSetRollout -benchtime 1x -timeout 60m
//
// STROM_BENCH_DS_NODES lists the node counts (default "1000,5000").
func BenchmarkDaemonSetRollout(b *testing.B) {
	counts := "1000,5000"
	if v := os.Getenv("STROM_BENCH_DS_NODES"); v != "" {
		counts = v
	}
	for _, c := range strings.Split(counts, ",") {
		var nodes int
		fmt.Sscanf(c, "%d", &nodes)
		b.Run(fmt.Sprintf("nodes=%d", nodes), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runDaemonSetBench(b, nodes)
			}
		})
	}
}

func runDaemonSetBench(b *testing.B, nodes int) {
	d := clustertest.StartStromd(b, func(c *app.Config) {
		c.Logger = zap.NewNop()
		c.Reconcilers = app.BuiltinReconcilers(app.ReconcilerOptions{})
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	t0 := time.Now()
	startHollowNodes(b, ctx, d, nodes, "hollow-%05d", 5*time.Minute, 10*time.Second, corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("32Gi"),
		corev1.ResourcePods: resource.MustParse("110")})
	st := d.Projection().Store()
	waitUntil(b, 10*time.Minute, func() bool { return st.Count("nodes") == nodes })
	b.Logf("%d hollow nodes registered in %v", nodes, time.Since(t0).Round(time.Millisecond))

	tenPercent := intstr.FromString("10%")
	ds := &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "default"},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &tenPercent}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox:1",
					Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}}}}}},
		},
	}
	status := func() appsv1.DaemonSetStatus {
		e, ok := st.Get("daemonsets", "default", "agent")
		if !ok {
			return appsv1.DaemonSetStatus{}
		}
		obj, err := e.Object()
		if err != nil {
			b.Fatal(err)
		}
		return obj.(*appsv1.DaemonSet).Status
	}
	start := time.Now()
	if _, err := d.Writer().Create(ctx, ds, events.WriteOptions{Actor: "bench"}); err != nil {
		b.Fatal(err)
	}
	waitUntil(b, 20*time.Minute, func() bool {
		s := status()
		return s.DesiredNumberScheduled == int32(nodes) && s.NumberAvailable == int32(nodes) && s.UpdatedNumberScheduled == int32(nodes)
	})
	running := time.Since(start)

	// The image change, with maxUnavailable 10 %.
	e, _ := st.Get("daemonsets", "default", "agent")
	obj, _ := e.Object()
	next := obj.(*appsv1.DaemonSet)
	next.Spec.Template.Spec.Containers[0].Image = "busybox:2"
	rollStart := time.Now()
	if _, err := d.Writer().Update(ctx, next, events.WriteOptions{Actor: "bench"}); err != nil {
		b.Fatal(err)
	}
	waitUntil(b, 30*time.Minute, func() bool {
		s := status()
		return s.ObservedGeneration >= next.Generation+1 && s.UpdatedNumberScheduled == int32(nodes) && s.NumberAvailable == int32(nodes)
	})
	rolled := time.Since(rollStart)
	b.ReportMetric(running.Seconds(), "s-to-running")
	b.ReportMetric(rolled.Seconds(), "s-rollout")
	b.Logf("daemonset across %d hollow nodes: all pods bound and Running %v after the create; image change rolled out (maxUnavailable 10%%) in %v; log at seq %d",
		nodes, running.Round(time.Millisecond), rolled.Round(time.Millisecond), st.LastSeq())
}
