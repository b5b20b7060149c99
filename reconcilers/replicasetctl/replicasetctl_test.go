package replicasetctl_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/replicasetctl"
)

const rsJSON = `{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`

func owned(e *ctltest.Env, uid string) []corev1.Pod {
	var out []corev1.Pod
	for _, name := range podNames(e) {
		var p corev1.Pod
		e.Get("pods", "default", name, &p)
		if ref := metav1.GetControllerOf(&p); ref != nil && string(ref.UID) == uid && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	return out
}

func podNames(e *ctltest.Env) []string {
	var names []string
	for _, k := range ctlutil.Keys(e.Store, "pods") {
		names = append(names, k[len("default/"):])
	}
	return names
}

// Creates the missing pods, adopts a matching orphan, writes status, and
// planning again right away creates nothing more (it waited for its own
// writes).
func TestCreatesAdoptsAndIsIdempotent(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"stray","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"x"}]}}`)
	rs := e.Create(rsJSON)
	r := replicasetctl.New(e.Env)
	for i := 0; i < 3; i++ {
		if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
			t.Fatal(err)
		}
	}
	e.Sync()
	pods := owned(e, string(rs.GetUID()))
	if len(pods) != 3 {
		t.Fatalf("%d owned pods after three reconciles, want 3 (2 created + 1 adopted)", len(pods))
	}
	adopted := false
	for _, p := range pods {
		adopted = adopted || p.Name == "stray"
	}
	if !adopted {
		t.Fatal("matching orphan not adopted")
	}
	var got appsv1.ReplicaSet
	e.Get("replicasets", "default", "web", &got)
	if got.Status.Replicas != 3 || got.Status.ObservedGeneration != got.Generation {
		t.Fatalf("status %+v", got.Status)
	}
}

// Scaling down deletes pods: unbound ones for good, bound ones gracefully.
func TestScaleDown(t *testing.T) {
	e := ctltest.Start(t)
	rs := e.Create(rsJSON)
	r := replicasetctl.New(e.Env)
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	var cur appsv1.ReplicaSet
	e.Get("replicasets", "default", "web", &cur)
	one := int32(1)
	cur.Spec.Replicas = &one
	e.Write(&cur, "update")
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if n := len(owned(e, string(rs.GetUID()))); n != 1 {
		t.Fatalf("%d active pods after scaling to 1", n)
	}
	if n := e.Count("pods", "default"); n != 1 {
		t.Fatalf("%d pods in the log, want unbound ones deleted for good", n)
	}
}
