package projections_test

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/logtest"
)

func streamState(t *testing.T, l *logtest.Log) (first, last uint64, maxBytes int64) {
	t.Helper()
	st, err := l.JS.Stream(context.Background(), events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.FirstSeq, info.State.LastSeq, info.Config.MaxBytes
}

// With a tiny MaxBytes the stream drops the only event of a long-lived
// object; the object must survive restarts (in a snapshot at or after the
// window base), points inside the window must rebuild, and points before
// it must say Gone rather than answer wrongly.
func TestRetentionKeepsObjectsOlderThanTheWindow(t *testing.T) {
	ctx := context.Background()
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	// EnsureStreams updates the limits in place, idempotently.
	o := events.StreamOptions{MaxBytes: 24 << 10}
	for i := 0; i < 2; i++ {
		if _, err := events.EnsureStreams(ctx, l.JS, o); err != nil {
			t.Fatalf("EnsureStreams with retention (%d): %v", i, err)
		}
	}
	if _, _, mb := streamState(t, l); mb != o.MaxBytes {
		t.Fatalf("stream MaxBytes %d, want %d", mb, o.MaxBytes)
	}
	w := l.Writer
	if _, err := w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, opts()); err != nil {
		t.Fatal(err)
	}
	old, err := w.Apply(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "long-lived", Namespace: "default"}, Data: map[string]string{"k": "v"}}, opts())
	if err != nil {
		t.Fatal(err)
	}
	// A cluster-scoped object the refresher leaves alone: only snapshots
	// keep it once its only event is dropped.
	ghost, err := w.Apply(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ghost"}}, opts())
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	p, err := projections.New(pctx, projections.Config{JetStream: l.JS, Sealer: l.Sealer, SnapshotEvery: 5, KeepSnapshots: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(pctx); err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 600)
	for i := 0; i < 150; i++ {
		pd := pod("churn-"+strconv.Itoa(i%5), "node-1", map[string]string{"i": strconv.Itoa(i)})
		pd.Annotations = map[string]string{"pad": pad}
		if _, err := w.Apply(ctx, pd, opts()); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
		// What the refresher timer does, here after every write.
		if err := p.Store().WaitFor(ctx, l.LastSeq(t)); err != nil {
			t.Fatal(err)
		}
		if _, err := p.RefreshOld(ctx, skipKind{w, "ClusterRole"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		// Let the snapshotter keep up, as it does at real write rates.
		if err := p.Store().WaitFor(ctx, l.LastSeq(t)); err != nil {
			t.Fatal(err)
		}
		if i%5 == 4 {
			logtest.Eventually(t, 5*time.Second, func() error {
				snaps, err := p.Snapshots(ctx)
				if err != nil || len(snaps) == 0 || snaps[len(snaps)-1]+5 < l.LastSeq(t) {
					return errorf("snapshots %v behind #%d (%v)", snaps, l.LastSeq(t), err)
				}
				return nil
			})
		}
	}
	first, last, _ := streamState(t, l)
	if first <= old.Seq+1 {
		t.Fatalf("the log still starts at #%d: MaxBytes did not drop the head (long-lived object at #%d)", first, old.Seq)
	}
	snaps, err := p.Snapshots(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) == 0 || snaps[len(snaps)-1] < first {
		t.Fatalf("no snapshot inside the window (log #%d..#%d): %v", first, last, snaps)
	}
	if len(snaps) > 3+1 {
		t.Fatalf("%d snapshots kept, want at most KeepSnapshots + the oldest replayable = 4: %v", len(snaps), snaps)
	}

	// A restart rebuilds the object whose only event is gone.
	p2, err := projections.New(pctx, projections.Config{JetStream: l.JS, Sealer: l.Sealer})
	if err != nil {
		t.Fatal(err)
	}
	if err := p2.Start(pctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := p2.Store().Get("configmaps", "default", "long-lived"); !ok {
		t.Fatalf("after restart the long-lived ConfigMap is lost (log starts at #%d, snapshots %v)", first, snaps)
	}
	if e, ok := p2.Store().Get("clusterroles", "", "ghost"); !ok || e.Seq != ghost.Seq {
		t.Fatalf("after restart the ClusterRole whose only event is gone is lost (log starts at #%d, snapshots %v)", first, snaps)
	}
	if err := projections.Compare(p2.Store(), p.Store()); err != nil {
		t.Fatalf("restarted view differs from the live one: %v", err)
	}

	// Every point from the window base on rebuilds, with the old object.
	h := p2.History()
	b, err := h.Bounds(ctx)
	if err != nil {
		t.Fatal(err)
	}
	oldest := uint64(0)
	for i := len(snaps) - 1; i >= 0 && snaps[i]+1 >= first; i-- {
		oldest = snaps[i]
	}
	if !b.ReplayableOK || b.Replayable != oldest || b.Replayable+1 < first {
		t.Fatalf("bounds %+v, snapshots %v, first #%d", b, snaps, first)
	}
	for _, at := range []uint64{b.Replayable, b.Replayable + 1, (b.Replayable + last) / 2, last} {
		st, err := h.At(ctx, at)
		if err != nil {
			t.Fatalf("At(#%d) inside the window: %v", at, err)
		}
		if st.LastSeq() != at {
			t.Fatalf("At(#%d) built #%d", at, st.LastSeq())
		}
		if _, ok := st.Get("configmaps", "default", "long-lived"); !ok {
			t.Fatalf("At(#%d) lost the long-lived ConfigMap", at)
		}
	}
	// Before the oldest replayable point: Gone, clearly.
	for _, at := range []uint64{b.Replayable - 1, 1} {
		if _, err := h.At(ctx, at); events.ReasonOf(err) != events.ReasonGone {
			t.Fatalf("At(#%d) before the window: %v, want Gone", at, err)
		}
	}

	// An export of the retained log carries the window base: replayed
	// offline, it has the long-lived object and the same final state.
	var buf bytes.Buffer
	hdr, err := projections.Export(ctx, l.JS, &buf, projections.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !hdr.HasBase || hdr.BaseSeq != b.Replayable || hdr.FirstSeq != first || hdr.LastSeq != last {
		t.Fatalf("export header %+v (log first #%d)", hdr, first)
	}
	fh, err := projections.ReadExport(&buf, l.Sealer)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := fh.Latest(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := projections.Compare(latest, p.Store()); err != nil {
		t.Fatalf("replayed export differs from the live view: %v", err)
	}
	if _, err := fh.At(ctx, hdr.BaseSeq-1); events.ReasonOf(err) != events.ReasonGone {
		t.Fatalf("export At before its base: %v, want Gone", err)
	}
	// The write path still sees the refreshed objects: re-applying the
	// ConfigMap changes nothing (no second object with a new uid).
	again, err := w.Apply(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "long-lived", Namespace: "default"}, Data: map[string]string{"k": "v"}}, opts())
	if err != nil || again.Outcome != events.Unchanged || again.Object.GetUID() != old.Object.GetUID() {
		t.Fatalf("re-apply of the refreshed ConfigMap: %v %+v", err, again)
	}
	// The ghost's every event is gone: the write path cannot see it until
	// a full refresh restores it from the view.
	if _, err := w.Get(ctx, objects.ByKind("ClusterRole"), "", "ghost"); !events.IsNotFound(err) {
		t.Fatalf("ghost still readable from the log: %v", err)
	}
	if err := p.Store().WaitFor(ctx, l.LastSeq(t)); err != nil {
		t.Fatal(err)
	}
	if n, err := p.RefreshOld(ctx, w, time.Now()); err != nil || n == 0 {
		t.Fatalf("full refresh: %d %v", n, err)
	}
	if g, err := w.Get(ctx, objects.ByKind("ClusterRole"), "", "ghost"); err != nil || g.GetUID() != ghost.Object.GetUID() {
		t.Fatalf("ghost not restored to the log: %v", err)
	}
	report, err := projections.Check(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if !report.OK() {
		t.Fatalf("check of the retained log: %+v", report.Problems)
	}
}

// skipKind refreshes every object but those of one kind.
type skipKind struct {
	w    *events.Writer
	kind string
}

func (s skipKind) Refresh(ctx context.Context, obj objects.Object, seq uint64, o events.WriteOptions) (*events.Result, error) {
	if k, _ := objects.KindOf(obj); k != nil && k.Kind == s.kind {
		return &events.Result{Outcome: events.Unchanged}, nil
	}
	return s.w.Refresh(ctx, obj, seq, o)
}

func errorf(format string, args ...any) error {
	return events.Errorf(events.ReasonInternal, format, args...)
}
