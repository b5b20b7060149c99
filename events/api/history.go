package api

import (
	"encoding/json"
	"time"

	"github.com/strom-project/strom/events"
)

// The results of the time-travel verbs (diff, trace, check), computed by
// projections and printed by the CLI.

// Change is what happened to an object between two views.
type Change string

const (
	ChangeCreated Change = "Created"
	ChangeDeleted Change = "Deleted"
	ChangeChanged Change = "Changed"
)

// FieldChange is one changed field: Op is "+" (added), "-" (removed) or
// "~" (changed); Old and New are JSON values.
type FieldChange struct {
	Path string          `json:"path"`
	Op   string          `json:"op"`
	Old  json.RawMessage `json:"old,omitempty"`
	New  json.RawMessage `json:"new,omitempty"`
}

// ObjectDiff is one object that differs between two views.
type ObjectDiff struct {
	Resource  string        `json:"resource"`
	Namespace string        `json:"namespace,omitempty"`
	Name      string        `json:"name"`
	Change    Change        `json:"change"`
	FromSeq   uint64        `json:"fromSeq,omitempty"` // resourceVersion in the first view
	ToSeq     uint64        `json:"toSeq,omitempty"`   // resourceVersion in the second view
	Fields    []FieldChange `json:"fields,omitempty"`
}

// TraceStep is one event in a trace.
type TraceStep struct {
	Seq       uint64      `json:"seq"`
	ID        string      `json:"id"`
	Type      events.Type `json:"type"`
	Resource  string      `json:"resource"`
	Namespace string      `json:"namespace,omitempty"`
	Name      string      `json:"name"`
	Actor     string      `json:"actor"`
	Cause     string      `json:"cause,omitempty"`
	Time      time.Time   `json:"time"`
	// Delta is the time since the step before it (its cause), in seconds.
	Delta float64 `json:"delta,omitempty"`
}

// TraceNode is a step with the steps it caused.
type TraceNode struct {
	TraceStep
	Children []*TraceNode `json:"children,omitempty"`
}

// TraceResult answers `strom trace`.
type TraceResult struct {
	Resource  string `json:"resource"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	// Why is the chain of causes that led to the explained event, root
	// first, ending with that event; Root is what started it: a request
	// id ("req:..."), another free-form cause, or "" when the chain
	// reaches an event that names no cause.
	Why  []TraceStep `json:"why,omitempty"`
	Root string      `json:"root,omitempty"`
	// Missing is set when the chain names an event the log no longer has.
	Missing string `json:"missing,omitempty"`
	// Events are the object's events, each with what it caused.
	Events    []*TraceNode `json:"events,omitempty"`
	Truncated bool         `json:"truncated,omitempty"`
}

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
