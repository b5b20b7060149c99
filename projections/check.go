package projections

import (
	"context"
	"fmt"
	"strings"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

const maxReported = 50

func problem(r *api.CheckReport, format string, args ...any) {
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
func Check(ctx context.Context, h History) (*api.CheckReport, error) {
	b, err := h.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	r := &api.CheckReport{FirstSeq: b.FirstSeq, LastSeq: b.LastSeq}
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
			r.Snapshots = append(r.Snapshots, api.SnapshotCheck{Seq: s, Status: "mismatch", Detail: fmt.Sprintf("after the log's last event #%d", b.LastSeq)})
			problem(r, "snapshot #%d is after the log's last event #%d", s, b.LastSeq)
		case s+1 < b.FirstSeq:
			r.Snapshots = append(r.Snapshots, api.SnapshotCheck{Seq: s, Status: "skipped", Detail: "before the retained log"})
		case st == nil && b.FirstSeq > 1:
			if st, err = h.Snapshot(ctx, s); err != nil {
				problem(r, "snapshot #%d does not load: %v", s, err)
				st = nil
				continue
			}
			r.Snapshots = append(r.Snapshots, api.SnapshotCheck{Seq: s, Status: "base", Detail: "the replay starts here"})
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
			sc := api.SnapshotCheck{Seq: s, Status: "ok"}
			snap, err := h.Snapshot(ctx, s)
			if err == nil {
				err = Compare(snap, st)
			}
			if err != nil {
				sc.Status, sc.Detail = "mismatch", err.Error()
				problem(r, "snapshot #%d does not match the replay: %v", s, err)
			}
			r.Snapshots = append(r.Snapshots, sc)
		}
	}
	err = h.Events(ctx, EventQuery{From: b.FirstSeq, To: b.LastSeq}, func(ev *events.Event) error {
		r.Events++
		if prev != 0 && ev.Seq != prev+1 {
			if ev.Seq <= prev {
				problem(r, "event #%d comes after #%d: sequences must increase", ev.Seq, prev)
			} else {
				r.Warnings = append(r.Warnings, fmt.Sprintf("no event #%d..#%d (ignorable events of unknown types are skipped)", prev+1, ev.Seq-1))
			}
		}
		prev = ev.Seq
		if ev.ID == "" {
			problem(r, "event #%d has no id", ev.Seq)
		} else if s, dup := ids[ev.ID]; dup {
			problem(r, "event #%d reuses the id %s of #%d", ev.Seq, ev.ID, s)
		} else {
			ids[ev.ID] = ev.Seq
		}
		if ev.Actor == "" {
			problem(r, "event #%d has no actor", ev.Seq)
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
		problem(r, "reading the log stopped after #%d: %v", prev, err)
	}
	compare(b.LastSeq)
	if b.Count > 0 && b.LastSeq-b.FirstSeq+1 != b.Count {
		problem(r, "the log holds %d events between #%d and #%d", b.Count, b.FirstSeq, b.LastSeq)
	}
	for c, by := range later {
		if s, ok := ids[c]; ok {
			problem(r, "event #%d names as its cause %s, which is the later event #%d", by[0], c, s)
			continue
		}
		msg := fmt.Sprintf("event #%d names as its cause %s, which is not in the log", by[0], c)
		if b.FirstSeq > 1 {
			r.Warnings = append(r.Warnings, msg+" (it may be older than the retained log)")
		} else {
			problem(r, "%s", msg)
		}
	}
	return r, nil
}

func checkCause(r *api.CheckReport, ev *events.Event, ids map[string]uint64, later map[string][]uint64) {
	c := ev.Cause
	switch {
	case c == "":
		r.NoCause++
	case strings.HasPrefix(c, "req:"):
		r.CausedByRequest++
	case c == ev.ID:
		problem(r, "event #%d names itself as its cause", ev.Seq)
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
func checkObject(r *api.CheckReport, ev *events.Event) {
	k := kindOf(ev.Resource)
	if k == nil {
		problem(r, "event #%d: unknown resource %q", ev.Seq, ev.Resource)
		return
	}
	if len(ev.Object) == 0 {
		return // headers only, or a sealed secret without the key
	}
	obj, err := objects.DecodeStored(k, ev.Object)
	if err != nil {
		problem(r, "event #%d (%s %s): payload does not decode: %v", ev.Seq, ev.Resource, ev.Key(), err)
		return
	}
	if obj.GetName() != ev.Name || obj.GetNamespace() != ev.Namespace {
		if _, sealed := obj.GetAnnotations()[events.SealedAnnotation]; !sealed {
			problem(r, "event #%d: payload names %s/%s, subject names %s", ev.Seq, obj.GetNamespace(), obj.GetName(), ev.Key())
		}
	}
}
