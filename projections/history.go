package projections

import (
	"context"
	"time"

	"github.com/strom-project/strom/events"
)

// History is the log as the time-travel verbs (diff, trace, log, check,
// and get/list/history when replaying a file) read it: bounded reads of
// events in order, views as of a sequence, and time-to-sequence lookups.
// Two implementations: LiveHistory (the JetStream stream, with snapshots)
// and FileHistory (an export file, in memory, no server at all). Every
// verb is written once, against this interface.
type History interface {
	// Bounds is the range of events the history holds.
	Bounds(ctx context.Context) (Bounds, error)
	// Events calls fn for each event of q in sequence order. fn may return
	// ErrStop to end early. Ignorable events of unknown types are skipped.
	Events(ctx context.Context, q EventQuery, fn func(*events.Event) error) error
	// At is the view exactly after the event at seq (Gone when the history
	// no longer holds what rebuilding it needs).
	At(ctx context.Context, seq uint64) (*Store, error)
	// SeqAt is the last sequence at or before t.
	SeqAt(ctx context.Context, t time.Time) (uint64, error)
	// Latest is the newest view (the live one, for a live history).
	Latest(ctx context.Context) (*Store, error)
	// Snapshots lists the snapshot sequences available to rebuild from.
	Snapshots(ctx context.Context) ([]uint64, error)
	// Snapshot loads the snapshot at seq.
	Snapshot(ctx context.Context, seq uint64) (*Store, error)
}

// Bounds is a history's range.
type Bounds struct {
	FirstSeq, LastSeq   uint64
	FirstTime, LastTime time.Time
	Count               uint64
	// Replayable is the oldest sequence At can rebuild: the oldest
	// snapshot at or after FirstSeq-1, or FirstSeq-1 when nothing was
	// dropped yet (0: the empty start).
	Replayable   uint64
	ReplayableOK bool // false: no point can be rebuilt (head dropped, no snapshot)
}

// EventQuery selects events.
type EventQuery struct {
	From, To uint64   // inclusive; 0 for From means the first, 0 for To the last
	Subjects []string // subject filters; empty means all
	// HeadersOnly leaves Object nil: the envelope is enough for log lines
	// and cause links, and reading is much faster.
	HeadersOnly bool
}

// ErrStop ends an Events walk early without an error.
var ErrStop = events.Errorf(events.ReasonInternal, "stop")

// replayable computes Bounds.Replayable from the log's range and the
// snapshots, oldest first.
func replayable(first uint64, snaps []uint64) (uint64, bool) {
	if first <= 1 {
		return 0, true
	}
	for _, s := range snaps {
		if s+1 >= first {
			return s, true
		}
	}
	return 0, false
}
