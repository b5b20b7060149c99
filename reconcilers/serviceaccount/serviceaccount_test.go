package serviceaccount_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/serviceaccount"
)

func TestWants(t *testing.T) {
	now := metav1.NewTime(time.Unix(1, 0))
	for _, tc := range []struct {
		name string
		ns   *corev1.Namespace
		has  bool
		want bool
	}{
		{"no namespace", nil, false, false},
		{"active, missing", &corev1.Namespace{}, false, true},
		{"active, present", &corev1.Namespace{}, true, false},
		{"deleting", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &now}}, false, false},
		{"terminating", &corev1.Namespace{Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}, false, false},
	} {
		if got := serviceaccount.Wants(tc.ns, tc.has); got != tc.want {
			t.Errorf("%s: Wants = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Through a real log: a namespace gets its default account, a deleted one
// comes back, and a second reconcile writes nothing.
func TestDefaultAccountKept(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}`)
	r := serviceaccount.New(e.Env)
	ctx := context.Background()
	reconcile := func() {
		t.Helper()
		if _, err := r.Reconcile(ctx, "team"); err != nil {
			t.Fatal(err)
		}
		e.Sync()
	}
	reconcile()
	var sa corev1.ServiceAccount
	if !e.Get("serviceaccounts", "team", "default", &sa) {
		t.Fatal("no default ServiceAccount in namespace team")
	}
	seq := e.Log.LastSeq(t)
	reconcile()
	if got := e.Log.LastSeq(t); got != seq {
		t.Fatalf("a reconcile with the account present wrote %d events", got-seq)
	}
	if _, err := e.Writer.Delete(ctx, objects.ByKind("ServiceAccount"), "team", "default", events.DeleteOptions{}, events.WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	keys := r.Watches()[1].Keys(&events.Event{Type: events.TypeDeleted, Namespace: "team", Name: "default"})
	if len(keys) != 1 || keys[0] != "team" {
		t.Fatalf("the account's deletion maps to %v, want [team]", keys)
	}
	reconcile()
	if !e.Get("serviceaccounts", "team", "default", &sa) {
		t.Fatal("the deleted default ServiceAccount was not recreated")
	}
}
