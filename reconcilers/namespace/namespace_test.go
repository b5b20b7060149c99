package namespace_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/namespace"
)

func TestEmptiesThenDeletes(t *testing.T) {
	ctx := context.Background()
	o := events.WriteOptions{Actor: "test"}
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}`)
	e.Create(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"team"}}`)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"team"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}}`)
	e.Create(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"keep","namespace":"default"}}`)
	r := namespace.New(e.Env)

	// Not deleting: nothing happens.
	if _, err := r.Reconcile(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if e.Count("configmaps", "team") != 1 {
		t.Fatal("live namespace emptied")
	}
	if _, err := e.Writer.MarkDeleting(ctx, objects.ByKind("Namespace"), "", "team", nil, o); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	res, err := r.Reconcile(ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	e.Sync()
	var ns corev1.Namespace
	if !e.Get("namespaces", "", "team", &ns) || ns.Status.Phase != corev1.NamespaceTerminating {
		t.Fatalf("namespace phase %q, want Terminating while a pod is still there", ns.Status.Phase)
	}
	var p corev1.Pod
	if e.Count("configmaps", "team") != 0 || !e.Get("pods", "team", "p", &p) || p.DeletionTimestamp == nil || res.RequeueAfter == 0 {
		t.Fatalf("configmaps %d, pod deleting %v, requeue %v", e.Count("configmaps", "team"), p.DeletionTimestamp, res.RequeueAfter)
	}
	// The node confirms the pod's deletion: the namespace goes.
	if _, err := e.Writer.Delete(ctx, objects.ByKind("Pod"), "team", "p", events.DeleteOptions{Now: true}, o); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if _, err := r.Reconcile(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if e.Get("namespaces", "", "team", &ns) {
		t.Fatal("empty terminating namespace not deleted")
	}
	if e.Count("configmaps", "default") != 1 {
		t.Fatal("another namespace was touched")
	}
}
