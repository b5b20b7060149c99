package gc_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/gc"
)

const rsJSON = `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"rs"},"spec":{"replicas":0,"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`

// dependent creates a pod owned by owners, bound to node if not empty.
func dependent(e *ctltest.Env, name, node string, owners ...objects.Object) {
	e.T.Helper()
	p := &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
	for _, o := range owners {
		k, _ := objects.KindOf(o)
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: k.APIVersion(), Kind: k.Kind, Name: o.GetName(), UID: o.GetUID()})
	}
	e.Write(p, "create")
}

func reconcile(t *testing.T, e *ctltest.Env, r *gc.Reconciler, key string) {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), key); err != nil {
		t.Fatalf("reconcile %s: %v", key, err)
	}
	e.Sync()
}

func TestBackgroundCollectsOrphanedDependents(t *testing.T) {
	e := ctltest.Start(t)
	rs := e.Create(rsJSON)
	cm := e.Create(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm"}}`)
	dependent(e, "unbound", "", rs)
	dependent(e, "bound", "n1", rs)
	dependent(e, "two-owners", "", rs, cm)
	r := gc.New(e.Env)
	// Owner alive: nothing happens.
	for _, k := range r.Keys() {
		reconcile(t, e, r, k)
	}
	if n := e.Count("pods", "default"); n != 3 {
		t.Fatalf("%d pods with their owner alive, want 3", n)
	}
	if _, err := e.Writer.Delete(context.Background(), objects.ByKind("ReplicaSet"), "default", "rs", events.DeleteOptions{Now: true}, events.WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	for _, k := range r.Keys() {
		reconcile(t, e, r, k)
	}
	var p corev1.Pod
	if e.Get("pods", "default", "unbound", &p) {
		t.Fatal("unbound dependent of a deleted owner still there")
	}
	if !e.Get("pods", "default", "bound", &p) || p.DeletionTimestamp == nil {
		t.Fatal("bound dependent not deleted gracefully (marked, for its node to finish)")
	}
	if !e.Get("pods", "default", "two-owners", &p) || len(p.OwnerReferences) != 1 || p.OwnerReferences[0].Kind != "ConfigMap" {
		t.Fatalf("dependent with a live second owner: refs %v, want only the ConfigMap", p.OwnerReferences)
	}
}

// A reference to a same-named owner with another uid is dangling.
func TestOwnerUIDMismatchIsGone(t *testing.T) {
	e := ctltest.Start(t)
	rs := e.Create(rsJSON)
	dependent(e, "p", "", rs)
	if _, err := e.Writer.Delete(context.Background(), objects.ByKind("ReplicaSet"), "default", "rs", events.DeleteOptions{Now: true}, events.WriteOptions{Actor: "test"}); err != nil {
		t.Fatal(err)
	}
	e.Create(rsJSON) // same name, new uid
	r := gc.New(e.Env)
	reconcile(t, e, r, gc.Key("pods", "default", "p"))
	if e.Count("pods", "default") != 0 {
		t.Fatal("dependent of a recreated owner (new uid) survived")
	}
}

func TestOrphanAndForeground(t *testing.T) {
	ctx := context.Background()
	o := events.WriteOptions{Actor: "test"}
	rsKind := objects.ByKind("ReplicaSet")

	e := ctltest.Start(t)
	rs := e.Create(rsJSON)
	dependent(e, "p", "n1", rs)
	r := gc.New(e.Env)
	if _, err := e.Writer.Delete(ctx, rsKind, "default", "rs", events.DeleteOptions{Propagation: events.PropagationOrphan}, o); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	reconcile(t, e, r, gc.Key("replicasets", "default", "rs"))
	var p corev1.Pod
	if !e.Get("pods", "default", "p", &p) || len(p.OwnerReferences) != 0 || p.DeletionTimestamp != nil {
		t.Fatalf("orphan: pod refs %v deleting %v, want kept without owner", p.OwnerReferences, p.DeletionTimestamp)
	}
	if e.Count("replicasets", "default") != 0 {
		t.Fatal("orphan: owner not deleted once dependents were orphaned")
	}

	rs = e.Create(rsJSON)
	dependent(e, "q", "n1", rs)
	if _, err := e.Writer.Delete(ctx, rsKind, "default", "rs", events.DeleteOptions{Propagation: events.PropagationForeground}, o); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	reconcile(t, e, r, gc.Key("replicasets", "default", "rs"))
	if !e.Get("pods", "default", "q", &p) || p.DeletionTimestamp == nil {
		t.Fatal("foreground: dependent not being deleted")
	}
	if e.Count("replicasets", "default") != 1 {
		t.Fatal("foreground: owner deleted before its dependent")
	}
	// The node confirms: the pod goes, then the owner.
	if _, err := e.Writer.Delete(ctx, objects.ByKind("Pod"), "default", "q", events.DeleteOptions{Now: true}, o); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	reconcile(t, e, r, gc.Key("replicasets", "default", "rs"))
	if e.Count("replicasets", "default") != 0 {
		t.Fatal("foreground: owner still there after its dependents left")
	}
}
