package projections_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/logtest"
)

// A corrupt newest snapshot is skipped, with a warning naming it: the
// view is built from the next older one plus the log, and equals a full
// replay.
func TestCorruptSnapshotFallsBackToAnOlderOne(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx := context.Background()
	scenario(t, l, 60)
	p := startProjection(t, l, 0)
	older, err := p.WriteSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if _, err := l.Writer.Apply(ctx, pod("late"+strconv.Itoa(i%4), "n", map[string]string{"x": strconv.Itoa(i)}), opts()); err != nil {
			t.Fatal(err)
		}
	}
	want := l.LastSeq(t)
	logtest.Eventually(t, 5*time.Second, func() error {
		if got := p.Store().LastSeq(); got != want {
			return fmt.Errorf("at #%d, want #%d", got, want)
		}
		return nil
	})
	newer, err := p.WriteSnapshot(ctx)
	if err != nil || newer <= older {
		t.Fatalf("second snapshot %d (first %d): %v", newer, older, err)
	}
	os, err := l.JS.ObjectStore(ctx, events.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.PutBytes(ctx, fmt.Sprintf("snap-%020d", newer), []byte("not a snapshot")); err != nil {
		t.Fatal(err)
	}

	core, logs := observer.New(zapcore.InfoLevel)
	cctx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	q, err := projections.New(cctx, projections.Config{JetStream: l.JS, Sealer: l.Sealer, Logger: zap.New(core)})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(cctx); err != nil {
		t.Fatalf("start with a corrupt newest snapshot: %v", err)
	}
	warned := logs.FilterMessage("corrupt snapshot; trying an older one").All()
	if len(warned) != 1 || warned[0].ContextMap()["seq"] != newer {
		t.Fatalf("warnings %v, want one naming #%d", logs.All(), newer)
	}
	ready := logs.FilterMessage("projection ready").All()
	if len(ready) != 1 || ready[0].ContextMap()["snapshot_seq"] != older {
		t.Fatalf("ready %v, want it built from #%d", ready, older)
	}
	logtest.Eventually(t, 5*time.Second, func() error {
		if got := q.Store().LastSeq(); got != want {
			return fmt.Errorf("at #%d, want #%d", got, want)
		}
		return nil
	})
	full := projections.NewStore()
	replayAll(t, l, full)
	if err := projections.Compare(q.Store(), full); err != nil {
		t.Fatalf("view differs from a full replay: %v", err)
	}
	// --at a point after the corrupt snapshot reads through the older one.
	at, err := q.At(ctx, want)
	if err != nil {
		t.Fatalf("--at past a corrupt snapshot: %v", err)
	}
	if err := projections.Compare(at, full); err != nil {
		t.Fatalf("--at view differs: %v", err)
	}
}
