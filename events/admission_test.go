package events_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/logtest"
)

// call is one Admit and the outcome its done was told.
type call struct {
	kind      string
	obj, cur  objects.Object // as Admit saw them (copies)
	dryRun    bool
	doneErr   error
	doneCalls int
	doneRes   *events.Result
}

// recorder is an Admission that stamps ConfigMaps with an annotation
// counting its calls and records what it saw; before, if set, runs first
// in each Admit (to write in between, or to fail).
type recorder struct {
	mu     sync.Mutex
	calls  []*call
	before func(n int, obj objects.Object) error
	only   string // if set, the one kind it admits
}

func (r *recorder) Admits(k *objects.Kind) bool { return r.only == "" || k.Kind == r.only }

func (r *recorder) Admit(_ context.Context, k *objects.Kind, obj, cur objects.Object, dryRun bool) (func(*events.Result, error), error) {
	r.mu.Lock()
	n := len(r.calls)
	c := &call{kind: k.Kind, dryRun: dryRun}
	if obj != nil {
		c.obj = obj.DeepCopyObject().(objects.Object)
	}
	if cur != nil {
		c.cur = cur.DeepCopyObject().(objects.Object)
	}
	r.calls = append(r.calls, c)
	r.mu.Unlock()
	if r.before != nil {
		if err := r.before(n, obj); err != nil {
			return nil, err
		}
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok {
		if cm.Annotations == nil {
			cm.Annotations = map[string]string{}
		}
		cm.Annotations["admitted"] += "x" // a second admission of one copy would read "xx"
	}
	return func(res *events.Result, err error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		c.doneCalls++
		c.doneErr, c.doneRes = err, res
	}, nil
}

func admittedLog(t *testing.T, adm ...events.Admission) (*logtest.Log, *events.Writer) {
	t.Helper()
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	w, err := events.NewWriter(context.Background(), events.WriterConfig{JetStream: l.JS, Sealer: l.Sealer, Clock: clocktesting.NewFakeClock(t0), Admission: adm})
	if err != nil {
		t.Fatal(err)
	}
	mustNamespace(t, l, "default")
	return l, w
}

func cm(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}, Data: map[string]string{"k": "v"}}
}

// Every write of every kind is admitted with the stored object; the
// change Admit makes is stored; done hears the result. Status writes are
// not admitted; a removal is, with obj nil.
func TestAdmissionSeesEveryWrite(t *testing.T) {
	ctx := context.Background()
	r := &recorder{}
	_, w := admittedLog(t, r)
	res, err := w.Create(ctx, cm("a"), user("ctl"))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Object.GetAnnotations()["admitted"]; got != "x" {
		t.Fatalf("stored annotation %q, want the admission's change", got)
	}
	if len(r.calls) != 1 || r.calls[0].cur != nil || r.calls[0].obj == nil || r.calls[0].doneCalls != 1 || r.calls[0].doneErr != nil || r.calls[0].doneRes.Seq != res.Seq {
		t.Fatalf("create: calls %+v", r.calls)
	}
	// An apply of the same manifest: admitted with cur, unchanged.
	again, err := w.Apply(ctx, cm("a"), user("u"))
	if err != nil || again.Outcome != events.Unchanged {
		t.Fatalf("re-apply: %v %v", again, err)
	}
	if c := r.calls[len(r.calls)-1]; c.cur == nil || c.cur.GetAnnotations()["admitted"] != "x" || c.doneErr != nil || c.doneCalls != 1 {
		t.Fatalf("apply: %+v", c)
	}
	n := len(r.calls)
	if _, err := w.UpdateStatus(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, user("ctl")); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != n {
		t.Fatal("a status write was admitted")
	}
	if _, err := w.Delete(ctx, objects.ByKind("ConfigMap"), "default", "a", events.DeleteOptions{}, user("gc")); err != nil {
		t.Fatal(err)
	}
	if c := r.calls[len(r.calls)-1]; c.obj != nil || c.cur == nil || c.cur.GetName() != "a" || c.doneErr != nil || c.doneCalls != 1 || c.doneRes.Outcome != events.Deleted {
		t.Fatalf("removal: %+v", c)
	}
	// Dry runs are admitted as such.
	if _, err := w.Create(ctx, cm("b"), events.WriteOptions{Actor: "u", DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if c := r.calls[len(r.calls)-1]; !c.dryRun || c.doneCalls != 1 {
		t.Fatalf("dry run: %+v", c)
	}
	// Marking deleting (a pod's graceful delete) is no removal: not admitted.
	if _, err := w.Create(ctx, pod("p", "n1", nil), user("u")); err != nil {
		t.Fatal(err)
	}
	n = len(r.calls)
	if _, err := w.Delete(ctx, objects.ByKind("Pod"), "default", "p", events.DeleteOptions{}, user("u")); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != n {
		t.Fatalf("marking deleting was admitted: %+v", r.calls[n:])
	}
}

// A conflict between the read and the append retries the attempt: the
// first attempt's done hears the conflict (so claims can be undone) and
// the second attempt starts from a fresh copy of the incoming object.
func TestAdmissionRetryStartsAfresh(t *testing.T) {
	ctx := context.Background()
	r := &recorder{}
	l, w := admittedLog(t, r)
	if _, err := l.Writer.Create(ctx, cm("a"), user("u")); err != nil { // not admitted: the plain writer
		t.Fatal(err)
	}
	r.before = func(n int, _ objects.Object) error {
		if n == 0 { // someone writes between this attempt's read and its append
			other := cm("a")
			other.Data["k"] = "other"
			_, err := l.Writer.Update(ctx, other, user("other"))
			return err
		}
		return nil
	}
	mine := cm("a")
	mine.Data["k"] = "mine"
	res, err := w.Update(ctx, mine, user("u"))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 2 {
		t.Fatalf("%d attempts, want 2", len(r.calls))
	}
	first, second := r.calls[0], r.calls[1]
	if !events.IsConflict(first.doneErr) || first.doneCalls != 1 {
		t.Fatalf("first attempt's done: %v (%d calls), want the conflict once", first.doneErr, first.doneCalls)
	}
	if second.doneErr != nil || second.doneCalls != 1 {
		t.Fatalf("second attempt's done: %v (%d calls)", second.doneErr, second.doneCalls)
	}
	if second.cur.(*corev1.ConfigMap).Data["k"] != "other" {
		t.Fatal("the retry did not read the other write")
	}
	if got := res.Object.GetAnnotations()["admitted"]; got != "x" {
		t.Fatalf("annotation %q: the retry did not start from a fresh copy", got)
	}
	if mine.Annotations != nil {
		t.Fatal("the caller's object was changed")
	}
}

// An Admit error refuses the write, appends nothing, and the admissions
// that ran before it hear the refusal.
func TestAdmissionRefuses(t *testing.T) {
	ctx := context.Background()
	first := &recorder{}
	no := errors.New("no")
	second := &recorder{before: func(int, objects.Object) error { return events.Errorf(events.ReasonInvalid, "refused: %v", no) }}
	l, w := admittedLog(t, first, second)
	before := l.LastSeq(t)
	if _, err := w.Create(ctx, cm("a"), user("u")); !events.IsInvalid(err) {
		t.Fatalf("error %v, want the admission's", err)
	}
	if l.LastSeq(t) != before {
		t.Fatal("a refused write appended")
	}
	if c := first.calls[0]; c.doneCalls != 1 || c.doneErr == nil {
		t.Fatalf("earlier admission's done: %+v", c)
	}
	// An invalid object never reaches the admissions.
	n := len(first.calls)
	bad := cm("Bad_Name")
	if _, err := w.Create(ctx, bad, user("u")); !events.IsInvalid(err) || len(first.calls) != n {
		t.Fatalf("invalid object: %v, admitted %d times", err, len(first.calls)-n)
	}
}

// An admission is asked only about the kinds it admits: writes and
// removals of other kinds never reach it, and what it would add is absent.
func TestAdmissionOnlyForItsKinds(t *testing.T) {
	ctx := context.Background()
	r := &recorder{only: "Secret"}
	_, w := admittedLog(t, r)
	res, err := w.Create(ctx, cm("a"), user("u"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Delete(ctx, objects.ByKind("ConfigMap"), "default", "a", events.DeleteOptions{}, user("u")); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 0 || res.Object.GetAnnotations()["admitted"] != "" {
		t.Fatalf("a ConfigMap reached a Secret-only admission: %+v", r.calls)
	}
	sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: "default"}, StringData: map[string]string{"k": "v"}}
	if _, err := w.Create(ctx, sec, user("u")); err != nil {
		t.Fatal(err)
	}
	if len(r.calls) != 1 || r.calls[0].kind != "Secret" {
		t.Fatalf("the Secret was not admitted: %+v", r.calls)
	}
}
