package replicasetctl_test

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/replicasetctl"
)

// A ReplicationController from the kubernetes/examples style: no
// selector (it defaults from the template's labels). Its pods are owned
// by the controller as a v1 ReplicationController; status is written
// back to it; a pod that stops matching is released; scaling down
// deletes.
func TestReplicationController(t *testing.T) {
	e := ctltest.Start(t)
	rc := e.Create(`{"apiVersion":"v1","kind":"ReplicationController","metadata":{"name":"redis"},"spec":{"replicas":2,"template":{"metadata":{"labels":{"app":"redis","role":"main"}},"spec":{"containers":[{"name":"redis","image":"redis"}]}}}}`)
	var stored corev1.ReplicationController
	e.Get("replicationcontrollers", "default", "redis", &stored)
	if stored.Spec.Selector["app"] != "redis" || stored.Spec.Selector["role"] != "main" || stored.Labels["app"] != "redis" {
		t.Fatalf("selector and labels not defaulted from the template: %+v %+v", stored.Spec.Selector, stored.Labels)
	}
	r := replicasetctl.NewReplicationControllers(e.Env)
	reconcile := func() {
		t.Helper()
		if _, err := r.Reconcile(context.Background(), "default/redis"); err != nil {
			t.Fatal(err)
		}
		e.Sync()
	}
	reconcile()
	pods := owned(e, string(rc.GetUID()))
	if len(pods) != 2 {
		t.Fatalf("%d pods, want 2", len(pods))
	}
	ref := metav1.GetControllerOf(&pods[0])
	if ref.APIVersion != "v1" || ref.Kind != "ReplicationController" || ref.Name != "redis" {
		t.Fatalf("controller reference %+v", ref)
	}
	reconcile() // the status write of the first pass is applied
	e.Get("replicationcontrollers", "default", "redis", &stored)
	if stored.Status.Replicas != 2 || stored.Status.FullyLabeledReplicas != 2 || stored.Status.ObservedGeneration != stored.Generation {
		t.Fatalf("status %+v", stored.Status)
	}

	// A pod relabelled out of the selector is released and replaced.
	p := pods[0]
	p.Labels = map[string]string{"app": "debug"}
	e.Write(&p, "update")
	reconcile()
	var released corev1.Pod
	e.Get("pods", "default", p.Name, &released)
	if metav1.GetControllerOf(&released) != nil {
		t.Fatalf("relabelled pod still controlled: %+v", released.OwnerReferences)
	}
	if n := len(owned(e, string(rc.GetUID()))); n != 2 {
		t.Fatalf("%d owned pods after a release, want 2 (one replaced)", n)
	}

	zero := int32(0)
	e.Get("replicationcontrollers", "default", "redis", &stored)
	stored.Spec.Replicas = &zero
	e.Write(&stored, "update")
	reconcile()
	if n := len(owned(e, string(rc.GetUID()))); n != 0 {
		t.Fatalf("%d owned pods after scaling to 0", n)
	}
}
