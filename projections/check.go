package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// CheckReport is what `strom stream check` finds.
type CheckReport struct {
	FirstSeq uint64 `json:"firstSeq"`
	LastSeq  uint64 `json:"lastSeq"`
	Events   uint64 `json:"events"`
	// Cause links: to an earlier event, to a request ("req:..."), other
	// free-form causes ("bootstrap"), and none.
	CausedByEvent   uint64          `json:"causedByEvent"`
	CausedByRequest uint64          `json:"causedByRequest"`
	CausedOther     uint64          `json:"causedOther"`
	NoCause         uint64          `json:"noCause"`
	Snapshots       []SnapshotCheck `json:"snapshots"`
	Problems        []string        `json:"problems"`
	Warnings        []string        `json:"warnings,omitempty"`
}

// SnapshotCheck is one snapshot compared with a replay of the log.
type SnapshotCheck struct {
	Seq    uint64 `json:"seq"`
	Status string `json:"status"` // "ok", "mismatch", "base" (the replay starts there), "skipped"
	Detail string `json:"detail,omitempty"`
}

// OK reports whether the check found no problem.
func (r *CheckReport) OK() bool { return len(r.Problems) == 0 }

const maxReported = 50

func (r *CheckReport) problem(format string, args ...any) {
	if len(r.Problems) < maxReported {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	} else if len(r.Problems) == maxReported {
		r.Problems = append(r.Problems, "... (more problems not listed)")
	}
}

// Check validates a history: every event decodes (envelope and object),
// sequences increase without gaps, event ids are unique, every cause that
// names an event names an earlier one, and every snapshot equals the
// view a replay of the log builds at its sequence.
func Check(ctx context.Context, h History) (*CheckReport, error) {
	b, err := h.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	r := &CheckReport{FirstSeq: b.FirstSeq, LastSeq: b.LastSeq}
	snaps, err := h.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	// The replay starts from the empty state when the log is whole, else
	// from the oldest snapshot that the log continues.
	var st *Store
	var pending []uint64
	for _, s := range snaps {
		switch {
		case s > b.LastSeq:
			r.Snapshots = append(r.Snapshots, SnapshotCheck{Seq: s, Status: "mismatch", Detail: fmt.Sprintf("after the log's last event #%d", b.LastSeq)})
			r.problem("snapshot #%d is after the log's last event #%d", s, b.LastSeq)
		case s+1 < b.FirstSeq:
			r.Snapshots = append(r.Snapshots, SnapshotCheck{Seq: s, Status: "skipped", Detail: "before the retained log"})
		case st == nil && b.FirstSeq > 1:
			if st, err = h.Snapshot(ctx, s); err != nil {
				r.problem("snapshot #%d does not load: %v", s, err)
				st = nil
				continue
			}
			r.Snapshots = append(r.Snapshots, SnapshotCheck{Seq: s, Status: "base", Detail: "the replay starts here"})
		default:
			pending = append(pending, s)
		}
	}
	if st == nil {
		if b.FirstSeq > 1 && b.Count > 0 {
			r.Warnings = append(r.Warnings, fmt.Sprintf("the log starts at #%d and no snapshot covers what came before: snapshots cannot be checked", b.FirstSeq))
			pending = nil
		}
		st = NewStore()
	}
	ids := make(map[string]uint64, b.Count)
	later := map[string][]uint64{} // event-shaped causes not seen yet → who named them
	prev := uint64(0)
	compare := func(upTo uint64) {
		for len(pending) > 0 && pending[0] <= upTo {
			s := pending[0]
			pending = pending[1:]
			sc := SnapshotCheck{Seq: s, Status: "ok"}
			snap, err := h.Snapshot(ctx, s)
			if err == nil {
				err = Compare(snap, st)
			}
			if err != nil {
				sc.Status, sc.Detail = "mismatch", err.Error()
				r.problem("snapshot #%d does not match the replay: %v", s, err)
			}
			r.Snapshots = append(r.Snapshots, sc)
		}
	}
	err = h.Events(ctx, EventQuery{From: b.FirstSeq, To: b.LastSeq}, func(ev *events.Event) error {
		r.Events++
		if prev != 0 && ev.Seq != prev+1 {
			if ev.Seq <= prev {
				r.problem("event #%d comes after #%d: sequences must increase", ev.Seq, prev)
			} else {
				r.Warnings = append(r.Warnings, fmt.Sprintf("no event #%d..#%d (ignorable events of unknown types are skipped)", prev+1, ev.Seq-1))
			}
		}
		prev = ev.Seq
		if ev.ID == "" {
			r.problem("event #%d has no id", ev.Seq)
		} else if s, dup := ids[ev.ID]; dup {
			r.problem("event #%d reuses the id %s of #%d", ev.Seq, ev.ID, s)
		} else {
			ids[ev.ID] = ev.Seq
		}
		if ev.Actor == "" {
			r.problem("event #%d has no actor", ev.Seq)
		}
		checkCause(r, ev, ids, later)
		checkObject(r, ev)
		if st.LastSeq() >= ev.Seq && st.LastSeq() != 0 {
			return nil // inside the base snapshot
		}
		compare(ev.Seq - 1)
		st.Apply(ev)
		return nil
	})
	if err != nil {
		r.problem("reading the log stopped after #%d: %v", prev, err)
	}
	compare(b.LastSeq)
	if b.Count > 0 && b.LastSeq-b.FirstSeq+1 != b.Count {
		r.problem("the log holds %d events between #%d and #%d", b.Count, b.FirstSeq, b.LastSeq)
	}
	for c, by := range later {
		if s, ok := ids[c]; ok {
			r.problem("event #%d names as its cause %s, which is the later event #%d", by[0], c, s)
			continue
		}
		msg := fmt.Sprintf("event #%d names as its cause %s, which is not in the log", by[0], c)
		if b.FirstSeq > 1 {
			r.Warnings = append(r.Warnings, msg+" (it may be older than the retained log)")
		} else {
			r.problem("%s", msg)
		}
	}
	return r, nil
}

func checkCause(r *CheckReport, ev *events.Event, ids map[string]uint64, later map[string][]uint64) {
	c := ev.Cause
	switch {
	case c == "":
		r.NoCause++
	case strings.HasPrefix(c, "req:"):
		r.CausedByRequest++
	case c == ev.ID:
		r.problem("event #%d names itself as its cause", ev.Seq)
	default:
		if _, ok := ids[c]; ok {
			r.CausedByEvent++
		} else if LooksLikeEventID(c) {
			r.CausedByEvent++
			later[c] = append(later[c], ev.Seq)
		} else {
			r.CausedOther++
		}
	}
}

// checkObject decodes the payload with the current types, so that a
// change of types that breaks old payloads is found.
func checkObject(r *CheckReport, ev *events.Event) {
	k := kindOf(ev.Resource)
	if k == nil {
		r.problem("event #%d: unknown resource %q", ev.Seq, ev.Resource)
		return
	}
	if len(ev.Object) == 0 {
		return // headers only, or a sealed secret without the key
	}
	obj, err := objects.DecodeStored(k, ev.Object)
	if err != nil {
		r.problem("event #%d (%s %s): payload does not decode: %v", ev.Seq, ev.Resource, ev.Key(), err)
		return
	}
	if obj.GetName() != ev.Name || obj.GetNamespace() != ev.Namespace {
		if _, sealed := obj.GetAnnotations()[events.SealedAnnotation]; !sealed {
			r.problem("event #%d: payload names %s/%s, subject names %s", ev.Seq, obj.GetNamespace(), obj.GetName(), ev.Key())
		}
	}
}
