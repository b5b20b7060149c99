package podgc_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/podgc"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bound := &corev1.Pod{Spec: corev1.PodSpec{NodeName: "foo-node"}}
	for _, tc := range []struct {
		name   string
		pod    *corev1.Pod
		exists bool
		since  time.Time
		act    podgc.Action
		after  time.Duration
	}{
		{"unbound", &corev1.Pod{}, false, time.Time{}, podgc.Keep, 0},
		{"node exists", bound, true, now.Add(-time.Hour), podgc.Keep, 0},
		{"first seen missing", bound, false, time.Time{}, podgc.Wait, podgc.Quarantine},
		{"in quarantine", bound, false, now.Add(-10 * time.Second), podgc.Wait, 30 * time.Second},
		{"quarantine over", bound, false, now.Add(-podgc.Quarantine), podgc.Delete, 0},
	} {
		act, after := podgc.Decide(tc.pod, tc.exists, tc.since, now)
		if act != tc.act || after != tc.after {
			t.Errorf("%s: Decide = %v, %v; want %v, %v", tc.name, act, after, tc.act, tc.after)
		}
	}
}

// Through a real log: the Kubernetes docs' pod pinned to "foo-node", a
// node that does not exist, is kept through the quarantine, then marked
// Failed (DisruptionTarget, DeletionByPodGC) and removed; a pod on a
// node that exists is left alone.
func TestPodOfMissingNodeCollected(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}`)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nginx","namespace":"default"},"spec":{"nodeName":"foo-node","containers":[{"name":"nginx","image":"nginx"}]}}`)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"fine","namespace":"default"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"busybox"}]}}`)
	r := podgc.New(e.Env)
	ctx := context.Background()
	reconcile := func(key string) time.Duration {
		t.Helper()
		res, err := r.Reconcile(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		e.Sync()
		return res.RequeueAfter
	}
	keys := r.Keys()
	if len(keys) != 2 {
		t.Fatalf("Keys = %v, want both bound pods", keys)
	}
	if after := reconcile("default/nginx"); after != podgc.Quarantine {
		t.Fatalf("first look: requeue after %v, want the quarantine %v", after, podgc.Quarantine)
	}
	var p corev1.Pod
	if !e.Get("pods", "default", "nginx", &p) {
		t.Fatal("pod removed before the quarantine ended")
	}
	e.Clock.Step(podgc.Quarantine)
	from := e.Log.LastSeq(t)
	if after := reconcile("default/nginx"); after != 0 {
		t.Fatalf("after the quarantine: requeue after %v", after)
	}
	if e.Get("pods", "default", "nginx", &p) {
		t.Fatalf("pod of a missing node kept: %+v", p.Status)
	}
	// The log tells it: a status update marking it Failed, then the removal.
	var story []string
	for _, ev := range e.Events(from) {
		if ev.Resource != "pods" || ev.Name != "nginx" {
			continue
		}
		story = append(story, string(ev.Type)+" by "+ev.Actor)
		if ev.Type == events.TypeStatusUpdated {
			var got corev1.Pod
			if err := json.Unmarshal(ev.Object, &got); err != nil {
				t.Fatal(err)
			}
			c := got.Status.Conditions
			if got.Status.Phase != corev1.PodFailed || len(c) != 1 || c[0].Type != corev1.DisruptionTarget || c[0].Reason != "DeletionByPodGC" {
				t.Errorf("the pod's last status: phase %s, conditions %+v", got.Status.Phase, c)
			}
		}
	}
	want := []string{"StatusUpdated by " + podgc.Actor, "Deleted by " + podgc.Actor}
	if strings.Join(story, ", ") != strings.Join(want, ", ") {
		t.Errorf("the pod's events: %v, want %v", story, want)
	}
	reconcile("default/fine")
	if !e.Get("pods", "default", "fine", &p) {
		t.Fatal("pod of an existing node removed")
	}
}
