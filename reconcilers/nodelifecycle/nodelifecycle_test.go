package nodelifecycle_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/nodelifecycle"
	"github.com/strom-project/strom/test/logtest"
)

func readyStatus(n *corev1.Node) corev1.ConditionStatus {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status
		}
	}
	return ""
}

// renewLease puts a heartbeat of node into the lease bucket, as its agent
// does.
func renewLease(t *testing.T, e *ctltest.Env, node string) {
	t.Helper()
	ctx := context.Background()
	kv, err := e.Log.JS.KeyValue(ctx, events.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	hb, _ := json.Marshal(events.Heartbeat{Time: e.Clock.Now()})
	if _, err := kv.Put(ctx, events.LeaseKey(node), hb); err != nil {
		t.Fatal(err)
	}
}

// reconciler returns a function that reconciles node once, waits for the
// Store to apply what it wrote and returns when it asked to come back.
func reconciler(t *testing.T, ctx context.Context, e *ctltest.Env, r *nodelifecycle.Reconciler, node string) func() time.Duration {
	return func() time.Duration {
		t.Helper()
		res, err := r.Reconcile(ctx, node)
		if err != nil {
			t.Fatal(err)
		}
		e.Sync()
		return res.RequeueAfter
	}
}

// Silence → Ready=Unknown and the NoExecute taint; after the eviction
// timeout the node's pods are deleted for good except those tolerating
// the taint; a renewed lease makes the node Ready again.
func TestLeaseLapseEvictsAndRecovers(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{"conditions":[{"type":"Ready","status":"True"}]}}`)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}}`)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent"},"spec":{"nodeName":"n1","tolerations":[{"operator":"Exists"}],"containers":[{"name":"c","image":"x"}]}}`)
	r := nodelifecycle.New(e.Env, nodelifecycle.Options{LeaseDuration: 40 * time.Second, EvictionTimeout: 5 * time.Minute})
	enqueued := e.RunKV(r)
	reconcile := reconciler(t, ctx, e, r, "n1")
	var n corev1.Node
	if wait := reconcile(); wait <= 0 || wait > 41*time.Second {
		t.Fatalf("fresh node re-checked after %v, want within the lease", wait)
	}
	e.Get("nodes", "", "n1", &n)
	if readyStatus(&n) != corev1.ConditionTrue {
		t.Fatal("fresh node marked not ready")
	}
	e.Clock.Step(41 * time.Second)
	reconcile()
	e.Get("nodes", "", "n1", &n)
	if readyStatus(&n) != corev1.ConditionUnknown || len(n.Spec.Taints) != 1 || n.Spec.Taints[0].Key != "node.kubernetes.io/unreachable" || n.Spec.Taints[0].Effect != corev1.TaintEffectNoExecute {
		t.Fatalf("silent node: Ready=%s taints %v", readyStatus(&n), n.Spec.Taints)
	}
	if e.Count("pods", "default") != 2 {
		t.Fatal("pods evicted before the eviction timeout")
	}
	e.Clock.Step(5*time.Minute + time.Second)
	reconcile()
	var p corev1.Pod
	if e.Get("pods", "default", "web", &p) || !e.Get("pods", "default", "agent", &p) {
		t.Fatal("after the timeout: want web deleted for good and the tolerating pod kept")
	}
	// Heartbeats resume.
	renewLease(t, e, "n1")
	// The manager's KV input maps the renewal of an unreachable node to
	// that node's key.
	select {
	case k := <-enqueued:
		if k != "n1" {
			t.Fatalf("lease renewal enqueued %q, want n1", k)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("lease renewal of an unreachable node enqueued nothing")
	}
	logtest.Eventually(t, 5*time.Second, func() error {
		reconcile()
		e.Get("nodes", "", "n1", &n)
		if readyStatus(&n) != corev1.ConditionTrue || len(n.Spec.Taints) != 0 {
			return errorf("Ready=%s taints %v", readyStatus(&n), n.Spec.Taints)
		}
		return nil
	})
}

// Pods of a deleted node are deleted for good.
func TestDeletedNodeReleasesPods(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"nodeName":"gone","containers":[{"name":"c","image":"x"}]}}`)
	r := nodelifecycle.New(e.Env, nodelifecycle.Options{})
	if _, err := r.Reconcile(context.Background(), "gone"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
	if e.Count("pods", "default") != 0 {
		t.Fatal("pod of a deleted node still there")
	}
}

// A node that keeps its lease but reports Ready=False (its runtime is
// down) gets the not-ready:NoExecute taint; after the eviction timeout its
// pods are deleted for good except those tolerating the taint; Ready
// again removes the taint. Its Ready condition is the node's to write.
func TestNotReadyNodeIsTaintedAndEvicted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady","message":"container runtime is down"}]}}`)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]}}`)
	e.Create(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"agent"},"spec":{"nodeName":"n1","tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute"}],"containers":[{"name":"c","image":"x"}]}}`)
	renewLease(t, e, "n1")
	// A lease longer than the eviction timeout: the node stays reachable
	// throughout, whatever the lease input's delivery delay.
	r := nodelifecycle.New(e.Env, nodelifecycle.Options{LeaseDuration: time.Hour, EvictionTimeout: 5 * time.Minute})
	e.RunKV(r)
	reconcile := reconciler(t, ctx, e, r, "n1")
	var n corev1.Node
	logtest.Eventually(t, 5*time.Second, func() error {
		reconcile()
		e.Get("nodes", "", "n1", &n)
		if len(n.Spec.Taints) != 1 {
			return errorf("taints %v", n.Spec.Taints)
		}
		return nil
	})
	if tn := n.Spec.Taints[0]; tn.Key != "node.kubernetes.io/not-ready" || tn.Effect != corev1.TaintEffectNoExecute || tn.TimeAdded == nil {
		t.Fatalf("taint %+v, want not-ready:NoExecute with its time", tn)
	}
	if readyStatus(&n) != corev1.ConditionFalse {
		t.Fatalf("Ready=%s: the controller overwrote the node's own report", readyStatus(&n))
	}
	if e.Count("pods", "default") != 2 {
		t.Fatal("pods evicted before the eviction timeout")
	}
	// The node is reachable through the timeout: the eviction is for its
	// NotReady.
	e.Clock.Step(5*time.Minute + time.Second)
	logtest.Eventually(t, 5*time.Second, func() error {
		reconcile()
		var p corev1.Pod
		if e.Get("pods", "default", "web", &p) || !e.Get("pods", "default", "agent", &p) {
			return errorf("want web deleted for good and the tolerating pod kept")
		}
		return nil
	})
	e.Get("nodes", "", "n1", &n)
	if readyStatus(&n) != corev1.ConditionFalse || len(n.Spec.Taints) != 1 {
		t.Fatalf("after eviction: Ready=%s taints %v", readyStatus(&n), n.Spec.Taints)
	}
	// The node reports Ready again: the taint goes.
	n.Status.Conditions[0].Status = corev1.ConditionTrue
	n.TypeMeta.APIVersion, n.TypeMeta.Kind = "v1", "Node"
	e.Write(&n, "status")
	logtest.Eventually(t, 5*time.Second, func() error {
		reconcile()
		e.Get("nodes", "", "n1", &n)
		if readyStatus(&n) != corev1.ConditionTrue || len(n.Spec.Taints) != 0 {
			return errorf("Ready=%s taints %v", readyStatus(&n), n.Spec.Taints)
		}
		return nil
	})
}

// A pressure condition the node reports becomes the matching NoSchedule
// taint, removed when the pressure ends; the node's conditions stay its
// own.
func TestPressureConditionsTaintTheNode(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e := ctltest.Start(t)
	e.Create(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"MemoryPressure","status":"True"},{"type":"DiskPressure","status":"False"},{"type":"PIDPressure","status":"True"}]}}`)
	renewLease(t, e, "n1")
	r := nodelifecycle.New(e.Env, nodelifecycle.Options{LeaseDuration: 40 * time.Second, EvictionTimeout: 5 * time.Minute})
	e.RunKV(r)
	taints := func() map[string]corev1.TaintEffect {
		var n corev1.Node
		e.Get("nodes", "", "n1", &n)
		out := map[string]corev1.TaintEffect{}
		for _, tn := range n.Spec.Taints {
			out[tn.Key] = tn.Effect
		}
		return out
	}
	logtest.Eventually(t, 5*time.Second, func() error {
		if _, err := r.Reconcile(ctx, "n1"); err != nil {
			return err
		}
		e.Sync()
		got := taints()
		if len(got) != 2 || got["node.kubernetes.io/memory-pressure"] != corev1.TaintEffectNoSchedule || got["node.kubernetes.io/pid-pressure"] != corev1.TaintEffectNoSchedule {
			return errorf("taints %v, want memory-pressure and pid-pressure NoSchedule", got)
		}
		return nil
	})
	var n corev1.Node
	e.Get("nodes", "", "n1", &n)
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == corev1.NodeMemoryPressure {
			n.Status.Conditions[i].Status = corev1.ConditionFalse
		}
	}
	n.TypeMeta.APIVersion, n.TypeMeta.Kind = "v1", "Node"
	e.Write(&n, "status")
	logtest.Eventually(t, 5*time.Second, func() error {
		if _, err := r.Reconcile(ctx, "n1"); err != nil {
			return err
		}
		e.Sync()
		if got := taints(); len(got) != 1 || got["node.kubernetes.io/pid-pressure"] == "" {
			return errorf("taints %v, want pid-pressure only", got)
		}
		return nil
	})
	e.Get("nodes", "", "n1", &n)
	if readyStatus(&n) != corev1.ConditionTrue {
		t.Fatalf("Ready=%s", readyStatus(&n))
	}
}
