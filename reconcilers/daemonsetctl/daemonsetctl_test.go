package daemonsetctl_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/daemonset"
	"github.com/strom-project/strom/reconcilers/daemonsetctl"
	"github.com/strom-project/strom/reconcilers/history"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/test/logtest"
)

const dsJSON = `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},
"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"c","image":"agent:1"}]}}}}`

func addNode(e *ctltest.Env, name string) {
	e.T.Helper()
	n := e.Create(fmt.Sprintf(`{"apiVersion":"v1","kind":"Node","metadata":{"name":%q}}`, name)).(*corev1.Node)
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	e.Write(n, "status")
}

func pods(t *testing.T, e *ctltest.Env) []*corev1.Pod {
	t.Helper()
	ps, err := ctlutil.List[corev1.Pod](e.Store, projections.Query{Resource: "pods", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(ps, func(a, b int) bool { return daemonset.TargetNode(ps[a]) < daemonset.TargetNode(ps[b]) })
	return ps
}

// ready writes a pod's Running, Ready status as its node would.
func ready(e *ctltest.Env, p *corev1.Pod) {
	e.T.Helper()
	next := p.DeepCopy()
	next.Status.Phase = corev1.PodRunning
	next.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(e.Clock.Now())}}
	e.Write(next, "status")
}

func reconcile(t *testing.T, e *ctltest.Env, r *daemonsetctl.Reconciler) {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), "default/agent"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
}

func getDS(e *ctltest.Env) *appsv1.DaemonSet {
	var ds appsv1.DaemonSet
	if !e.Get("daemonsets", "default", "agent", &ds) {
		e.T.Fatal("daemonset gone")
	}
	return &ds
}

// One pod per node, placed by affinity and labelled with the revision; a
// template change makes a second revision and rolls one node at a time.
func TestPodsRevisionsAndRollingUpdate(t *testing.T) {
	e := ctltest.Start(t)
	addNode(e, "n1")
	addNode(e, "n2")
	e.Create(dsJSON)
	r := daemonsetctl.New(e.Env)
	reconcile(t, e, r)
	ps := pods(t, e)
	if len(ps) != 2 || daemonset.TargetNode(ps[0]) != "n1" || daemonset.TargetNode(ps[1]) != "n2" {
		t.Fatalf("pods %d", len(ps))
	}
	revs, err := history.Owned(e.Store, "default", getDS(e).UID)
	if err != nil || len(revs) != 1 || revs[0].Revision != 1 {
		t.Fatalf("revisions %v %v", revs, err)
	}
	hash1 := revs[0].Labels[history.HashLabel]
	for _, p := range ps {
		if p.Labels[history.HashLabel] != hash1 || p.Labels[daemonset.TemplateGenerationLabel] != "1" || p.Spec.NodeName != "" {
			t.Fatalf("pod %s labels %v nodeName %q", p.Name, p.Labels, p.Spec.NodeName)
		}
		ready(e, p)
	}
	reconcile(t, e, r)
	ds := getDS(e)
	if s := ds.Status; s.DesiredNumberScheduled != 2 || s.NumberAvailable != 2 || s.UpdatedNumberScheduled != 2 || s.ObservedGeneration != ds.Generation {
		t.Fatalf("status %+v", s)
	}

	ds.Spec.Template.Spec.Containers[0].Image = "agent:2"
	e.Write(ds, "update")
	reconcile(t, e, r) // revision 2, one old pod deleted
	revs, _ = history.Owned(e.Store, "default", ds.UID)
	if len(revs) != 2 {
		t.Fatalf("%d revisions", len(revs))
	}
	live := func() []*corev1.Pod {
		var out []*corev1.Pod
		for _, p := range pods(t, e) {
			if p.DeletionTimestamp == nil {
				out = append(out, p)
			}
		}
		return out
	}
	if n := len(live()); n != 1 {
		t.Fatalf("%d live pods after the first rolling step, want 1", n)
	}
	for round := 0; round < 10; round++ {
		reconcile(t, e, r)
		for _, p := range live() {
			if p.Status.Phase != corev1.PodRunning {
				ready(e, p)
			}
		}
		if s := getDS(e).Status; s.UpdatedNumberScheduled == 2 && s.NumberAvailable == 2 {
			for _, p := range live() {
				if p.Spec.Containers[0].Image != "agent:2" {
					t.Fatalf("pod %s runs %s", p.Name, p.Spec.Containers[0].Image)
				}
			}
			return
		}
	}
	t.Fatalf("rollout unfinished: status %+v", getDS(e).Status)
}

// Run by the manager, the controller's writes carry the cause: the pods
// of a new node point at the node's event, and Events say what happened.
func TestCauseAndEvents(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(dsJSON)
	m := manager.New(e.Env, manager.Options{})
	m.Add(daemonsetctl.New(e.Env))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = m.Run(ctx) }()
	// The start-up resync has no cause: let it finish (it writes the
	// first status) before the node comes.
	logtest.Eventually(t, 10*time.Second, func() error {
		if getDS(e).Status.ObservedGeneration == 0 {
			return fmt.Errorf("first reconcile not done")
		}
		return nil
	})
	addNode(e, "n1")
	var created *events.Event
	logtest.Eventually(t, 10*time.Second, func() error {
		created = nil
		reasons := map[string]bool{}
		for _, ev := range e.Events(0) {
			if ev.Resource == "pods" && ev.Type == events.TypeCreated {
				created = ev
			}
			if ev.Resource == "events" && ev.Type == events.TypeCreated {
				var k corev1.Event
				if obj, _, err := objects.DecodeJSON(ev.Object); err == nil {
					if ke, ok := obj.(*corev1.Event); ok {
						k = *ke
					}
				}
				reasons[k.Reason] = true
			}
		}
		if created == nil || !reasons["SuccessfulCreate"] {
			return fmt.Errorf("no pod created yet (events %v)", reasons)
		}
		return nil
	})
	if created.Actor != daemonsetctl.Actor || created.Cause == "" {
		t.Fatalf("pod created by %q with cause %q", created.Actor, created.Cause)
	}
	var cause *events.Event
	for _, ev := range e.Events(0) {
		if ev.ID == created.Cause {
			cause = ev
		}
	}
	if cause == nil || cause.Resource != "nodes" && cause.Resource != "daemonsets" && cause.Resource != "controllerrevisions" {
		t.Fatalf("cause %+v", cause)
	}
}

// A node that keeps failing its daemon pod gets it replaced after 1 s,
// then 2 s, not in a hot loop.
func TestFailedPodBackoff(t *testing.T) {
	e := ctltest.Start(t)
	addNode(e, "n1")
	e.Create(dsJSON)
	r := daemonsetctl.New(e.Env)
	fail := func() string {
		t.Helper()
		reconcile(t, e, r)
		ps := pods(t, e)
		if len(ps) != 1 {
			t.Fatalf("%d pods", len(ps))
		}
		next := ps[0].DeepCopy()
		next.Status.Phase = corev1.PodFailed
		e.Write(next, "status")
		return next.Name
	}
	requeue := func() time.Duration {
		t.Helper()
		res, err := r.Reconcile(context.Background(), "default/agent")
		if err != nil {
			t.Fatal(err)
		}
		e.Sync()
		return res.RequeueAfter
	}
	gone := func(name string) bool {
		for _, p := range pods(t, e) {
			if p.Name == name && p.DeletionTimestamp == nil {
				return false
			}
		}
		return true
	}
	first := fail()
	requeue() // deleted at once: no back-off yet
	if !gone(first) {
		t.Fatalf("first failed pod %s kept", first)
	}
	second := fail()
	if wait := requeue(); wait != time.Second || gone(second) {
		t.Fatalf("second failure: requeue %v, gone %v; want a 1 s back-off", wait, gone(second))
	}
	e.Clock.Step(time.Second)
	requeue()
	if !gone(second) {
		t.Fatal("second failed pod kept after its back-off")
	}
	third := fail()
	if wait := requeue(); wait != 2*time.Second || gone(third) {
		t.Fatalf("third failure: requeue %v; want 2 s", wait)
	}
}

// The write path refuses a changed selector with Invalid naming
// spec.selector, and writes nothing.
func TestSelectorImmutableThroughWriter(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(dsJSON)
	ds := getDS(e)
	before := e.Log.LastSeq(t)
	ds.Spec.Selector.MatchLabels["tier"] = "x"
	ds.Spec.Template.Labels["tier"] = "x"
	_, err := e.Writer.Update(context.Background(), ds, events.WriteOptions{Actor: "test"})
	if !events.IsInvalid(err) || !strings.Contains(err.Error(), "spec.selector") || !strings.Contains(err.Error(), "field is immutable") {
		t.Fatalf("update error %v, want Invalid spec.selector: field is immutable", err)
	}
	if after := e.Log.LastSeq(t); after != before {
		t.Fatalf("log moved from %d to %d", before, after)
	}
}

// Rolling back to an older template reuses its revision, renumbered to be
// the newest (what rollout undo and history rely on), and its pods carry
// that revision's hash again.
func TestRollbackRenumbersRevision(t *testing.T) {
	e := ctltest.Start(t)
	addNode(e, "n1")
	e.Create(dsJSON)
	r := daemonsetctl.New(e.Env)
	reconcile(t, e, r)
	setImage := func(img string) {
		t.Helper()
		ds := getDS(e)
		ds.Spec.Template.Spec.Containers[0].Image = img
		e.Write(ds, "update")
		for i := 0; i < 4; i++ { // delete the old pod, create the new one
			reconcile(t, e, r)
		}
	}
	setImage("agent:2")
	setImage("agent:1")
	revs, err := history.Owned(e.Store, "default", getDS(e).UID)
	if err != nil || len(revs) != 2 {
		t.Fatalf("%d revisions (%v), want 2", len(revs), err)
	}
	history.Sort(revs)
	tmpl, err := history.Template(revs[1])
	if err != nil || revs[1].Revision != 3 || tmpl.Spec.Containers[0].Image != "agent:1" || revs[0].Revision != 2 {
		t.Fatalf("revisions %d, %d (newest runs %v, %v)", revs[0].Revision, revs[1].Revision, tmpl, err)
	}
	ps := pods(t, e)
	if len(ps) != 1 || ps[0].Labels[history.HashLabel] != revs[1].Labels[history.HashLabel] || ps[0].Spec.Containers[0].Image != "agent:1" {
		t.Fatalf("pods after rollback: %d, labels %v", len(ps), ps[0].Labels)
	}
}
