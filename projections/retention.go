package projections

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// Retention. The stream drops events by age and size (MaxAge, MaxBytes);
// the only Created event of a long-lived object goes with them. The view
// then lives on in snapshots: Start loads the newest snapshot, and At
// rebuilds from a snapshot at or after the log's first sequence - 1, so
// the oldest replayable point is the oldest such snapshot.
// Two rules keep that true:
//
//  1. Snapshots are written on a timer as well as every SnapshotEvery
//     events (RunSnapshotTimer), well inside the retention window, so a
//     quiet cluster still has a snapshot newer than what ages out.
//  2. Long-lived objects are re-appended (events.TypeRefreshed) before
//     their last event ages out (RefreshOld), because the write path
//     reads an object's current state from its last event.
//  3. Pruning deletes the snapshots that no retained event follows, keeps
//     the oldest one that still serves (the oldest replayable point) and
//     the newest, and thins the rest evenly (pruneSnapshots).

// RunSnapshotTimer writes a snapshot every interval when the view has
// moved since the last one, until ctx ends.
func (p *Projection) RunSnapshotTimer(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if p.store == nil || p.store.LastSeq() == p.lastSnapSeq() {
				continue
			}
			if _, err := p.WriteSnapshot(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("writing timed snapshot", zap.Error(err))
			}
		}
	}
}

// pruneSnapshots picks the snapshots to delete, given all of them (oldest
// first), the log's first sequence and how many to keep. A snapshot at s
// can rebuild any point from s on only while the events after s are
// still kept, so those with s+1 < first serve nothing and are deleted.
// The oldest remaining one is the oldest replayable point and is always
// kept (on top of keep) once the log has lost its head. Then, while more
// than keep remain, the one whose removal leaves the smallest gap goes
// (never the newest, which restarts load), so that rebuilding any point
// costs at most about window/keep events.
func pruneSnapshots(snaps []uint64, first uint64, keep int) []uint64 {
	if keep < 1 {
		keep = 1
	}
	var del, kept []uint64
	for _, s := range snaps {
		if s+1 < first {
			del = append(del, s)
		} else {
			kept = append(kept, s)
		}
	}
	lo := 0
	if first > 1 && len(kept) > 0 {
		lo = 1
	}
	for len(kept)-lo > keep {
		best, gap := -1, uint64(0)
		for i := lo; i < len(kept)-1; i++ {
			prev := uint64(0)
			if i > 0 {
				prev = kept[i-1]
			}
			if g := kept[i+1] - prev; best < 0 || g < gap {
				best, gap = i, g
			}
		}
		if best < 0 {
			break
		}
		del = append(del, kept[best])
		kept = append(kept[:best], kept[best+1:]...)
	}
	return del
}

// firstSeq is the stream's first sequence (1 when it cannot be read).
func (p *Projection) firstSeq(ctx context.Context) uint64 {
	info, err := p.stream.Info(ctx)
	if err != nil || info.State.FirstSeq == 0 {
		return 1
	}
	return info.State.FirstSeq
}

// Refresher re-appends an object's state (events.Writer.Refresh).
type Refresher interface {
	Refresh(ctx context.Context, obj objects.Object, seq uint64, o events.WriteOptions) (*events.Result, error)
}

// RefreshOld re-appends (events.TypeRefreshed) every live object whose
// last event is in the part of the log that retention drops next, so that
// the write path, which reads an object's last event, never loses a
// long-lived object: objects whose last event is older than MaxAge/2, and,
// once the log holds more than MaxBytes/2, those in the older half of it;
// also any whose events are already gone. It returns how many it
// refreshed. The cost is one event per long-lived object per half window;
// the live objects' total size must stay well under MaxBytes/2.
func (p *Projection) RefreshOld(ctx context.Context, r Refresher, now time.Time) (int, error) {
	info, err := p.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	st, c := info.State, info.Config
	var threshold uint64 // refresh entries with Seq < threshold
	if st.FirstSeq > 1 {
		threshold = st.FirstSeq
	}
	if c.MaxAge > 0 && st.Msgs > 0 {
		seq, err := p.SeqAt(ctx, now.Add(-c.MaxAge/2))
		if err == nil {
			threshold = max(threshold, seq+1)
		}
	}
	if c.MaxBytes > 0 && st.Bytes > uint64(c.MaxBytes)/2 {
		threshold = max(threshold, st.FirstSeq+(st.LastSeq-st.FirstSeq)/2)
	}
	if threshold == 0 || p.store == nil {
		return 0, nil
	}
	_, _, entries := p.store.snapshotOf()
	n := 0
	for _, e := range entries {
		if e.Seq >= threshold {
			continue
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		obj, err := e.Object()
		if err != nil {
			return n, fmt.Errorf("refreshing %s %s: %w", e.Resource, e.Key(), err)
		}
		res, err := r.Refresh(ctx, obj, e.Seq, events.WriteOptions{Actor: "system:retention", Cause: "retention-refresh"})
		if err != nil {
			return n, fmt.Errorf("refreshing %s %s: %w", e.Resource, e.Key(), err)
		}
		if res.EventID != "" {
			n++
		}
	}
	return n, nil
}

// RunRefresher calls RefreshOld every interval until ctx ends.
func (p *Projection) RunRefresher(ctx context.Context, r Refresher, clk clock.PassiveClock, interval time.Duration) {
	if interval <= 0 {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := p.RefreshOld(ctx, r, clk.Now())
			if err != nil && ctx.Err() == nil {
				p.log.Warn("refreshing objects before retention drops them", zap.Error(err))
			}
			if n > 0 {
				p.log.Info("refreshed long-lived objects ahead of retention", zap.Int("objects", n))
			}
		}
	}
}
