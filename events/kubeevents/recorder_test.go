package kubeevents_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/kubeevents"
	"github.com/strom-project/strom/test/clustertest"
)

// Repeats bump count on one Event, through both backends.
func TestRecordDeduplicates(t *testing.T) {
	// No reconcilers: only this test's Events may be in the namespace.
	d := clustertest.StartStromd(t, func(c *app.Config) { c.NoControllers = true })
	c := clustertest.AdminClient(t, d)
	ctx := context.Background()
	res, err := d.Writer().Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "x"}}}}, events.WriteOptions{Actor: "t"})
	if err != nil {
		t.Fatal(err)
	}
	clock := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	backends := map[string]kubeevents.Backend{
		"writer": kubeevents.WriterBackend(d.Writer(), "test-controller", nil),
		"client": kubeevents.ClientBackend(c),
	}
	for name, b := range backends {
		r := kubeevents.New(b, "comp-"+name, "node-1", clock, nil)
		for i := 0; i < 3; i++ {
			r.Record(ctx, res.Object, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container")
			clock.Step(time.Minute)
		}
		r.Record(ctx, res.Object, corev1.EventTypeNormal, "Pulled", "image pulled")
	}
	list, err := c.ListAll(ctx, api.Request{Resource: "events", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 4 {
		t.Fatalf("%d Events, want 4 (BackOff x3 merged and Pulled, per source)", len(list.Items))
	}
	counts := map[int32]int{}
	for _, item := range list.Items {
		var ev corev1.Event
		if err := json.Unmarshal(item, &ev); err != nil {
			t.Fatal(err)
		}
		counts[ev.Count]++
		if ev.InvolvedObject.UID != res.Object.GetUID() || ev.InvolvedObject.Kind != "Pod" {
			t.Fatalf("involvedObject %+v", ev.InvolvedObject)
		}
		if ev.Count == 3 && ev.LastTimestamp.Sub(ev.FirstTimestamp.Time) != 2*time.Minute {
			t.Fatalf("first %v last %v", ev.FirstTimestamp, ev.LastTimestamp)
		}
	}
	if counts[3] != 2 || counts[1] != 2 {
		t.Fatalf("counts %v, want two Events with count 3 and two with 1", counts)
	}
}
