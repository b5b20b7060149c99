package events_test

import (
	"context"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/logtest"
)

func pod(name, node string, grace *int64) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec: corev1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: grace, Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
}

func i64(v int64) *int64 { return &v }

// What each Delete leaves in the log: the event it appends and the state.
func TestDeleteRules(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		obj      objects.Object
		d        events.DeleteOptions
		wantType events.Type // of the last event
		check    func(t *testing.T, got objects.Object)
	}{
		{name: "configmap goes at once", obj: &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "default"}},
			wantType: events.TypeDeleted},
		{name: "unbound pod goes at once", obj: pod("p", "", i64(30)), wantType: events.TypeDeleted},
		{name: "bound pod is marked with its own grace period", obj: pod("p", "n1", i64(30)), wantType: events.TypeUpdated,
			check: func(t *testing.T, got objects.Object) {
				if g := got.GetDeletionGracePeriodSeconds(); g == nil || *g != 30 {
					t.Fatalf("grace %v, want 30", g)
				}
			}},
		{name: "bound pod is marked with the grace period asked for", obj: pod("p", "n1", i64(30)), d: events.DeleteOptions{GracePeriod: i64(0)},
			wantType: events.TypeUpdated, check: func(t *testing.T, got objects.Object) {
				if g := got.GetDeletionGracePeriodSeconds(); g == nil || *g != 0 {
					t.Fatalf("grace %v, want 0", g)
				}
			}},
		{name: "bound pod goes at once when forced", obj: pod("p", "n1", i64(30)), d: events.DeleteOptions{Now: true}, wantType: events.TypeDeleted},
		{name: "foreground adds its finalizer and marks", obj: deployment("web", "nginx"), d: events.DeleteOptions{Propagation: events.PropagationForeground},
			wantType: events.TypeUpdated, check: func(t *testing.T, got objects.Object) {
				if f := got.GetFinalizers(); len(f) != 1 || f[0] != metav1.FinalizerDeleteDependents {
					t.Fatalf("finalizers %v", f)
				}
			}},
		{name: "orphan adds its finalizer and marks", obj: deployment("web", "nginx"), d: events.DeleteOptions{Propagation: events.PropagationOrphan},
			wantType: events.TypeUpdated, check: func(t *testing.T, got objects.Object) {
				if f := got.GetFinalizers(); len(f) != 1 || f[0] != metav1.FinalizerOrphanDependents {
					t.Fatalf("finalizers %v", f)
				}
			}},
		{name: "background goes at once", obj: deployment("web", "nginx"), d: events.DeleteOptions{Propagation: events.PropagationBackground}, wantType: events.TypeDeleted},
		{name: "namespace is marked Terminating", obj: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, wantType: events.TypeUpdated,
			check: func(t *testing.T, got objects.Object) {
				if ph := got.(*corev1.Namespace).Status.Phase; ph != corev1.NamespaceTerminating {
					t.Fatalf("phase %q", ph)
				}
			}},
		{name: "namespace goes when finished", obj: &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}, d: events.DeleteOptions{Now: true}, wantType: events.TypeDeleted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
			mustNamespace(t, l, "default")
			created, err := l.Writer.Create(ctx, tc.obj, user("a"))
			if err != nil {
				t.Fatal(err)
			}
			k, _ := objects.KindOf(tc.obj)
			before := l.LastSeq(t)
			res, err := l.Writer.Delete(ctx, k, tc.obj.GetNamespace(), tc.obj.GetName(), tc.d, user("a"))
			if err != nil {
				t.Fatal(err)
			}
			if res.Outcome != events.Deleted || res.Seq != before+1 || l.LastSeq(t) != before+1 {
				t.Fatalf("outcome %q seq %d (stream #%d), want deleted in one event after #%d", res.Outcome, res.Seq, l.LastSeq(t), before)
			}
			hist := history(t, l, k, tc.obj.GetNamespace(), tc.obj.GetName())
			if last := hist[len(hist)-1]; last.Type != tc.wantType {
				t.Fatalf("last event %s, want %s", last.Type, tc.wantType)
			}
			ts := res.Object.GetDeletionTimestamp()
			if ts == nil || !ts.Equal(&metav1.Time{Time: t0}) {
				t.Fatalf("deletionTimestamp %v, want %v", ts, t0)
			}
			if res.Object.GetUID() != created.Object.GetUID() {
				t.Fatal("uid changed")
			}
			got, err := l.Writer.Get(ctx, k, tc.obj.GetNamespace(), tc.obj.GetName())
			if tc.wantType == events.TypeDeleted {
				if !events.IsNotFound(err) {
					t.Fatalf("still there: %v", err)
				}
				return
			}
			if err != nil || got.GetDeletionTimestamp() == nil {
				t.Fatalf("not marked deleting: %v %v", got, err)
			}
			if tc.check != nil {
				tc.check(t, got)
			}
			// Deleting again changes nothing: the mark is there.
			again, err := l.Writer.Delete(ctx, k, tc.obj.GetNamespace(), tc.obj.GetName(), tc.d, user("a"))
			if err != nil || again.Outcome != events.Deleted || l.LastSeq(t) != before+1 {
				t.Fatalf("second delete: %v %v, stream #%d", again, err, l.LastSeq(t))
			}
		})
	}
}

func history(t *testing.T, l *logtest.Log, k *objects.Kind, ns, name string) []*events.Event {
	t.Helper()
	var out []*events.Event
	last := l.LastSeq(t)
	st, err := l.JS.Stream(context.Background(), events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); seq <= last; seq++ {
		m, err := st.GetMsg(context.Background(), seq)
		if err != nil {
			continue
		}
		if m.Subject != events.Subject(k.Resource, ns, name) {
			continue
		}
		ev, err := events.DecodeMsg(m.Subject, m.Header, m.Data, m.Sequence, m.Time, l.Sealer)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if len(out) == 0 {
		t.Fatalf("no events for %s %s/%s", k.Resource, ns, name)
	}
	return out
}

// A deleting namespace that is not Terminating (marked by other means)
// is made Terminating by Delete: the namespace controller's repair.
func TestDeleteMakesDeletingNamespaceTerminating(t *testing.T) {
	ctx := context.Background()
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	k := objects.ByKind("Namespace")
	if _, err := l.Writer.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, user("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Writer.MarkDeleting(ctx, k, "", "team", nil, user("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Writer.Delete(ctx, k, "", "team", events.DeleteOptions{}, user("a")); err != nil {
		t.Fatal(err)
	}
	got, err := l.Writer.Get(ctx, k, "", "team")
	if err != nil || got.(*corev1.Namespace).Status.Phase != corev1.NamespaceTerminating || got.GetDeletionTimestamp() == nil {
		t.Fatalf("namespace %v %v, want deleting and Terminating", got, err)
	}
	hist := history(t, l, k, "", "team")
	if typ := hist[len(hist)-1].Type; typ != events.TypeStatusUpdated {
		t.Fatalf("repair appended %s, want a status update", typ)
	}
}

// Refusals append nothing: a stale precondition (whatever the rule), a
// bad propagation or grace period, a missing object, and a dry run.
func TestDeleteRefusalsAndDryRun(t *testing.T) {
	ctx := context.Background()
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	mustNamespace(t, l, "default")
	dk := objects.ByKind("Deployment")
	pk := objects.ByKind("Pod")
	if _, err := l.Writer.Create(ctx, deployment("web", "nginx"), user("a")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Writer.Create(ctx, pod("p", "n1", nil), user("a")); err != nil {
		t.Fatal(err)
	}
	before := l.LastSeq(t)
	for _, tc := range []struct {
		name   string
		k      *objects.Kind
		obj    string
		d      events.DeleteOptions
		o      events.WriteOptions
		reason events.Reason
	}{
		{"stale precondition", dk, "web", events.DeleteOptions{Precondition: "1"}, user("a"), events.ReasonConflict},
		{"stale precondition on a graceful delete", pk, "p", events.DeleteOptions{Precondition: "1"}, user("a"), events.ReasonConflict},
		{"stale precondition on a foreground delete", dk, "web", events.DeleteOptions{Precondition: "1", Propagation: events.PropagationForeground}, user("a"), events.ReasonConflict},
		{"bad propagation", dk, "web", events.DeleteOptions{Propagation: "sideways"}, user("a"), events.ReasonBadRequest},
		{"negative grace", pk, "p", events.DeleteOptions{GracePeriod: i64(-1)}, user("a"), events.ReasonBadRequest},
		{"no actor", dk, "web", events.DeleteOptions{}, events.WriteOptions{}, events.ReasonBadRequest},
		{"missing", dk, "nope", events.DeleteOptions{}, user("a"), events.ReasonNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := l.Writer.Delete(ctx, tc.k, "default", tc.obj, tc.d, tc.o)
			if events.ReasonOf(err) != tc.reason {
				t.Fatalf("error %v (%s), want %s", err, events.ReasonOf(err), tc.reason)
			}
			if l.LastSeq(t) != before {
				t.Fatal("a refused delete appended")
			}
		})
	}
	for _, d := range []events.DeleteOptions{{}, {Propagation: events.PropagationForeground}, {Now: true}} {
		res, err := l.Writer.Delete(ctx, dk, "default", "web", d, events.WriteOptions{Actor: "a", DryRun: true})
		if err != nil || res.Outcome != events.Deleted || res.Object.GetDeletionTimestamp() == nil || l.LastSeq(t) != before {
			t.Fatalf("dry run %+v: %v %v, stream #%d", d, res, err, l.LastSeq(t))
		}
	}
	// The precondition that matches is honoured.
	cur, _ := l.Writer.Get(ctx, dk, "default", "web")
	if _, err := l.Writer.Delete(ctx, dk, "default", "web", events.DeleteOptions{Precondition: cur.GetResourceVersion()}, user("a")); err != nil {
		t.Fatal(err)
	}
}
