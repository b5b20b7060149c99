package deploymentctl_test

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/deployment"
	"github.com/strom-project/strom/reconcilers/deploymentctl"
)

const deployJSON = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`

func replicaSets(t *testing.T, e *ctltest.Env) []*appsv1.ReplicaSet {
	rss, err := ctlutil.List[appsv1.ReplicaSet](e.Store, projections.Query{Resource: "replicasets", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	return rss
}

// The first plan creates revision 1 with every replica and writes the
// revision annotation and status.
func TestCreatesFirstReplicaSet(t *testing.T) {
	e := ctltest.Start(t)
	d := e.Create(deployJSON)
	r := deploymentctl.New(e.Env)
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	rss := replicaSets(t, e)
	if len(rss) != 1 {
		t.Fatalf("%d replicasets, want 1", len(rss))
	}
	rs := rss[0]
	ref := metav1.GetControllerOf(rs)
	if ref == nil || ref.UID != d.GetUID() || *rs.Spec.Replicas != 3 || deployment.Revision(rs) != 1 {
		t.Fatalf("replicaset owner %v replicas %d revision %d", ref, *rs.Spec.Replicas, deployment.Revision(rs))
	}
	var got appsv1.Deployment
	e.Get("deployments", "default", "web", &got)
	if got.Annotations[deployment.RevisionAnnotation] != "1" || got.Status.ObservedGeneration != got.Generation {
		t.Fatalf("deployment annotations %v status %+v", got.Annotations, got.Status)
	}
}

// While a ReplicaSet's status lags its spec the Deployment waits: a new
// template is not rolled out on stale counts.
func TestWaitsForReplicaSetsToSettle(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(deployJSON)
	r := deploymentctl.New(e.Env)
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	var d appsv1.Deployment
	e.Get("deployments", "default", "web", &d)
	d.Spec.Template.Spec.Containers[0].Image = "y"
	e.Write(&d, "update")
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if n := len(replicaSets(t, e)); n != 1 {
		t.Fatalf("%d replicasets while the first had not settled, want 1", n)
	}
	// The ReplicaSet controller reports: the rollout proceeds.
	rs := replicaSets(t, e)[0]
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 3, ReadyReplicas: 3, AvailableReplicas: 3, ObservedGeneration: rs.Generation}
	e.Write(rs, "status")
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	rss := replicaSets(t, e)
	if len(rss) != 2 {
		t.Fatalf("%d replicasets after the template changed, want 2", len(rss))
	}
	for _, rs := range rss {
		if rs.Spec.Template.Spec.Containers[0].Image == "y" && deployment.Revision(rs) != 2 {
			t.Fatalf("new replicaset revision %d, want 2", deployment.Revision(rs))
		}
	}
}

// A ReplicaSet with the new one's name that the Deployment does not own
// raises status.collisionCount.
func TestNameCollision(t *testing.T) {
	e := ctltest.Start(t)
	d := e.Create(deployJSON).(*appsv1.Deployment)
	hash := deployment.ComputeHash(&d.Spec.Template, nil)
	e.Create(`{"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"name":"web-` + hash + `"},"spec":{"replicas":0,"selector":{"matchLabels":{"x":"y"}},"template":{"metadata":{"labels":{"x":"y"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}`)
	r := deploymentctl.New(e.Env)
	if _, err := r.Reconcile(context.Background(), "default/web"); err == nil {
		t.Fatal("no error on a name collision")
	}
	e.Sync()
	var got appsv1.Deployment
	e.Get("deployments", "default", "web", &got)
	if got.Status.CollisionCount == nil || *got.Status.CollisionCount != 1 {
		t.Fatalf("collisionCount %v, want 1", got.Status.CollisionCount)
	}
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if n := len(replicaSets(t, e)); n != 2 {
		t.Fatalf("%d replicasets after the collision, want the stranger and ours", n)
	}
}
