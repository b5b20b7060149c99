package events_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/logtest"
)

const tracking = "batch.kubernetes.io/job-tracking"

// A pod carrying the Job tracking finalizer is held where it would be
// removed — at once when unbound, when its node finishes when bound —
// marked deleting with grace 0, and the update dropping the finalizer
// removes it. A bound pod whose grace period runs keeps running when the
// finalizer goes: its node still finishes.
func TestDeleteHoldsJobTrackedPods(t *testing.T) {
	l := logtest.StartLog(t, nil)
	ctx := context.Background()
	o := events.WriteOptions{Actor: "test"}
	podKind := objects.ByKind("Pod")
	if _, err := l.Writer.Create(ctx, &corev1.Namespace{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Namespace"}, ObjectMeta: metav1.ObjectMeta{Name: "default"}}, o); err != nil {
		t.Fatal(err)
	}
	mk := func(name, node string) {
		p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Finalizers: []string{tracking}},
			Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}}}
		if _, err := l.Writer.Create(ctx, p, o); err != nil {
			t.Fatal(err)
		}
	}
	get := func(name string) *corev1.Pod {
		obj, err := l.Writer.Get(ctx, podKind, "default", name)
		if events.IsNotFound(err) {
			return nil
		}
		if err != nil {
			t.Fatal(err)
		}
		return obj.(*corev1.Pod)
	}
	unfinalize := func(name string) {
		p := get(name)
		p.Finalizers = nil
		if _, err := l.Writer.Update(ctx, p, o); err != nil {
			t.Fatal(err)
		}
	}
	del := func(name string, now bool) {
		if _, err := l.Writer.Delete(ctx, podKind, "default", name, events.DeleteOptions{Now: now}, o); err != nil {
			t.Fatal(err)
		}
	}

	mk("pending", "")
	del("pending", false)
	if p := get("pending"); p == nil || p.DeletionTimestamp == nil || *p.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("unbound tracked pod not held: %+v", p)
	}
	unfinalize("pending")
	if p := get("pending"); p != nil {
		t.Fatalf("held pod kept after its finalizer went: %+v", p.ObjectMeta)
	}

	mk("bound", "n1")
	del("bound", false) // graceful
	unfinalize("bound")
	if p := get("bound"); p == nil || p.DeletionTimestamp == nil {
		t.Fatal("a terminating pod went before its node finished")
	}
	del("bound", true) // the node finishes
	if get("bound") != nil {
		t.Fatal("finished pod without finalizer kept")
	}

	mk("finished", "n1")
	del("finished", false)
	del("finished", true) // the node finishes before the Job counted it
	if p := get("finished"); p == nil || *p.DeletionGracePeriodSeconds != 0 {
		t.Fatalf("tracked pod removed by its node: %+v", p)
	}
	unfinalize("finished")
	if get("finished") != nil {
		t.Fatal("held pod kept after its finalizer went")
	}
	h := history(t, l, podKind, "default", "finished")
	if last := h[len(h)-1]; last.Type != events.TypeDeleted || last.Actor != "test" {
		t.Fatalf("last event %v", last)
	}
}
