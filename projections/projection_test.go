package projections_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/logtest"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func opts() events.WriteOptions { return events.WriteOptions{Actor: "test"} }

func pod(name, node string, lbl map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", Labels: lbl},
		Spec:       corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
}

// scenario writes a mixed history: creates, updates, status updates,
// deletions and re-creations, secrets included. It returns the sequence
// after each step.
func scenario(t *testing.T, l *logtest.Log, n int) []uint64 {
	t.Helper()
	ctx := context.Background()
	w := l.Writer
	if _, err := w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, opts()); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	podKind := objects.ByKind("Pod")
	for i := 0; i < n; i++ {
		name := "p" + strconv.Itoa(i%7)
		var err error
		switch i % 5 {
		case 0, 1:
			_, err = w.Apply(ctx, pod(name, "node-"+strconv.Itoa(i%3), map[string]string{"app": "a" + strconv.Itoa(i%2), "i": strconv.Itoa(i)}), opts())
		case 2:
			_, err = w.Delete(ctx, podKind, "default", name, events.DeleteOptions{Now: true}, opts())
			if events.IsNotFound(err) {
				err = nil
			}
		case 3:
			_, err = w.Apply(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s" + strconv.Itoa(i%4), Namespace: "default"},
				Data: map[string][]byte{"k": []byte("v" + strconv.Itoa(i))}}, opts())
		case 4:
			var cur objects.Object
			cur, err = w.Get(ctx, podKind, "default", name)
			if err == nil {
				p := cur.(*corev1.Pod)
				p.Status.Phase = corev1.PodRunning
				p.Status.Message = strconv.Itoa(i)
				_, err = w.UpdateStatus(ctx, p, opts())
			} else if events.IsNotFound(err) {
				err = nil
			}
		}
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		seqs = append(seqs, l.LastSeq(t))
	}
	return seqs
}

func startProjection(t *testing.T, l *logtest.Log, every uint64) *projections.Projection {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	p, err := projections.New(ctx, projections.Config{JetStream: l.JS, Sealer: l.Sealer, SnapshotEvery: every})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSnapshotPlusTailEqualsFullReplay(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	scenario(t, l, 120)
	first := startProjection(t, l, 0)
	snapSeq, err := first.WriteSnapshot(context.Background())
	if err != nil || snapSeq == 0 {
		t.Fatalf("snapshot: %d %v", snapSeq, err)
	}
	// More history after the snapshot.
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		if _, err := l.Writer.Apply(ctx, pod("late"+strconv.Itoa(i%4), "n", map[string]string{"x": strconv.Itoa(i)}), opts()); err != nil {
			t.Fatal(err)
		}
	}
	want := l.LastSeq(t)
	// A projection started now loads the snapshot and replays the tail...
	fromSnap := startProjection(t, l, 0)
	logtest.Eventually(t, 5*time.Second, func() error {
		if got := fromSnap.Store().LastSeq(); got != want {
			return fmt.Errorf("at #%d, want #%d", got, want)
		}
		return nil
	})
	// ...and equals a replay of the whole log, built without snapshots.
	full := projections.NewStore()
	replayAll(t, l, full)
	if err := projections.Compare(fromSnap.Store(), full); err != nil {
		t.Fatalf("snapshot+tail differs from full replay: %v", err)
	}
	if snaps, _ := fromSnap.Snapshots(ctx); len(snaps) != 1 || snaps[0] != snapSeq {
		t.Fatalf("snapshots %v, want [%d]", snaps, snapSeq)
	}
}

// replayAll folds every event of the log into st, the slow obvious way:
// one message at a time by sequence.
func replayAll(t *testing.T, l *logtest.Log, st *projections.Store) {
	t.Helper()
	ctx := context.Background()
	stream, err := l.JS.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	last := l.LastSeq(t)
	for seq := uint64(1); seq <= last; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatalf("#%d: %v", seq, err)
		}
		ev, err := events.DecodeMsg(m.Subject, m.Header, m.Data, m.Sequence, m.Time, l.Sealer)
		if err != nil {
			t.Fatalf("#%d: %v", seq, err)
		}
		st.Apply(ev)
	}
}

func TestAtIsExactlyTheStateAfterThatSequence(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	seqs := scenario(t, l, 60)
	p := startProjection(t, l, 0)
	ctx := context.Background()
	// A snapshot in the middle must not change answers before or after it.
	if _, err := p.WriteSnapshot(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		if _, err := l.Writer.Apply(ctx, pod("after"+strconv.Itoa(i), "", nil), opts()); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range []int{0, 7, 23, 41, 59} {
		at := seqs[i]
		got, err := p.At(ctx, at)
		if err != nil {
			t.Fatalf("At(%d): %v", at, err)
		}
		want := projections.NewStore()
		replayPrefix(t, l, want, at)
		if err := projections.Compare(got, want); err != nil {
			t.Fatalf("At(%d) differs from a replay up to it: %v", at, err)
		}
	}
	if _, err := p.At(ctx, l.LastSeq(t)+10); events.ReasonOf(err) != events.ReasonBadRequest {
		t.Fatalf("At in the future: %v, want BadRequest", err)
	}
}

func replayPrefix(t *testing.T, l *logtest.Log, st *projections.Store, upTo uint64) {
	t.Helper()
	ctx := context.Background()
	stream, _ := l.JS.Stream(ctx, events.StreamName)
	for seq := uint64(1); seq <= upTo; seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := events.DecodeMsg(m.Subject, m.Header, m.Data, m.Sequence, m.Time, l.Sealer)
		if err != nil {
			t.Fatal(err)
		}
		st.Apply(ev)
	}
}

func TestSeqAtTime(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	if _, err := l.Writer.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, opts()); err != nil {
		t.Fatal(err)
	}
	before := l.LastSeq(t)
	time.Sleep(20 * time.Millisecond) // stream timestamps are the server's clock
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	if _, err := l.Writer.Apply(ctx, pod("a", "", nil), opts()); err != nil {
		t.Fatal(err)
	}
	p := startProjection(t, l, 0)
	got, err := p.SeqAt(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	if got != before {
		t.Fatalf("SeqAt(mid) = %d, want %d (the last event before it)", got, before)
	}
	if got, _ := p.SeqAt(ctx, time.Now()); got != l.LastSeq(t) {
		t.Fatalf("SeqAt(now) = %d, want the last sequence %d", got, l.LastSeq(t))
	}
}

func TestListSelectorsAndIndexes(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	w := l.Writer
	for _, ns := range []string{"default", "other"} {
		if _, err := w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, opts()); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 10; i++ {
		p := pod("p"+strconv.Itoa(i), "node-"+strconv.Itoa(i%2), map[string]string{"app": map[bool]string{true: "web", false: "db"}[i < 6]})
		if i >= 8 {
			p.Namespace = "other"
		}
		if _, err := w.Apply(ctx, p, opts()); err != nil {
			t.Fatal(err)
		}
	}
	p := startProjection(t, l, 0)
	st := p.Store()
	sel, _ := labels.Parse("app=web")
	items, _ := st.List(projections.Query{Resource: "pods", Namespace: "default", Labels: sel})
	if len(items) != 6 {
		t.Fatalf("app=web in default: %d pods, want 6", len(items))
	}
	fs, err := projections.ParseFieldSelector("pods", "spec.nodeName=node-1")
	if err != nil {
		t.Fatal(err)
	}
	items, _ = st.List(projections.Query{Resource: "pods", Fields: fs})
	if len(items) != 5 {
		t.Fatalf("on node-1: %d pods, want 5", len(items))
	}
	for _, e := range items {
		if e.NodeName != "node-1" {
			t.Fatalf("%s is on %s", e.Key(), e.NodeName)
		}
	}
	if _, err := projections.ParseFieldSelector("pods", "spec.bogus=1"); err == nil {
		t.Fatalf("unsupported field accepted")
	}
	// Paging returns everything once, in order.
	var all []string
	cont := ""
	for {
		page, next := st.List(projections.Query{Resource: "pods", Limit: 3, Continue: cont})
		for _, e := range page {
			all = append(all, e.Key())
		}
		if next == "" {
			break
		}
		cont = next
	}
	if len(all) != 10 || all[0] != "default/p0" || all[9] != "other/p9" {
		t.Fatalf("paged list %v", all)
	}
}

func TestReadYourWritesAndWatch(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	if _, err := l.Writer.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, opts()); err != nil {
		t.Fatal(err)
	}
	p := startProjection(t, l, 0)
	st := p.Store()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sel, _ := labels.Parse("app=web")
	w, startSeq := st.Watch(wctx, projections.Query{Resource: "pods", Labels: sel})
	for i := 0; i < 50; i++ {
		res, err := l.Writer.Apply(ctx, pod("p"+strconv.Itoa(i), "", map[string]string{"app": map[bool]string{true: "web", false: "db"}[i%2 == 0]}), opts())
		if err != nil {
			t.Fatal(err)
		}
		// The write's sequence is all a reader needs to see it.
		wait, c2 := context.WithTimeout(ctx, 5*time.Second)
		if err := st.WaitFor(wait, res.Seq); err != nil {
			t.Fatal(err)
		}
		c2()
		if e, ok := st.Get("pods", "default", "p"+strconv.Itoa(i)); !ok || e.Seq != res.Seq {
			t.Fatalf("read after write did not see #%d", res.Seq)
		}
	}
	if _, err := l.Writer.Delete(ctx, objects.ByKind("Pod"), "default", "p0", events.DeleteOptions{Now: true}, opts()); err != nil {
		t.Fatal(err)
	}
	var got []string
	last := startSeq
	timeout := time.After(5 * time.Second)
	for len(got) < 26 {
		select {
		case we := <-w.C:
			if we.Event.Seq <= last {
				t.Fatalf("watch went backwards: #%d after #%d", we.Event.Seq, last)
			}
			last = we.Event.Seq
			got = append(got, string(we.Event.Type)+" "+we.Event.Name)
		case <-timeout:
			t.Fatalf("watch delivered %d events, want 26: %v", len(got), got)
		}
	}
	if got[0] != "Created p0" || got[25] != "Deleted p0" {
		t.Fatalf("watch events %v", got)
	}
}

func TestWatchFromAResourceVersion(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	if _, err := l.Writer.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, opts()); err != nil {
		t.Fatal(err)
	}
	var seqs []uint64
	for i := 0; i < 10; i++ {
		res, err := l.Writer.Apply(ctx, pod("p"+strconv.Itoa(i), "", map[string]string{"n": strconv.Itoa(i)}), opts())
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, res.Seq)
		// Other kinds in between must not show up.
		if _, err := l.Writer.Apply(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c" + strconv.Itoa(i), Namespace: "default"}}, opts()); err != nil {
			t.Fatal(err)
		}
	}
	p := startProjection(t, l, 0)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, _, err := p.WatchFrom(wctx, projections.Query{Resource: "pods"}, seqs[4])
	if err != nil {
		t.Fatal(err)
	}
	// Live events after the watch started arrive after the history.
	if _, err := l.Writer.Delete(ctx, objects.ByKind("Pod"), "default", "p0", events.DeleteOptions{Now: true}, opts()); err != nil {
		t.Fatal(err)
	}
	var got []string
	timeout := time.After(5 * time.Second)
	for len(got) < 6 {
		select {
		case we := <-ch:
			got = append(got, string(we.Event.Type)+" "+we.Event.Name)
		case <-timeout:
			t.Fatalf("got %v", got)
		}
	}
	want := "[Created p5 Created p6 Created p7 Created p8 Created p9 Deleted p0]"
	if fmt.Sprint(got) != want {
		t.Fatalf("watch from #%d: %v, want %s", seqs[4], got, want)
	}
}
