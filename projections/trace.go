package projections

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// CauseIndex links events by their Cause: event id → event, cause →
// the events it caused, object → its events. It is built lazily from a
// History's envelopes (headers only, no payloads) on the first trace and
// extended incrementally on each later one, so a trace never rescans the
// log. Memory is about 200 bytes per event (≈200 MB per million events);
// events dropped by retention stay indexed until restart, which keeps
// "why" chains answerable past the window.
type CauseIndex struct {
	mu       sync.Mutex
	nodes    []api.TraceStep
	byID     map[string]int32
	children map[string][]int32 // cause → events it caused
	byObject map[string][]int32 // resource/ns/name → its events
	next     uint64             // next sequence to index
	intern   map[string]string
}

// NewCauseIndex returns an empty index.
func NewCauseIndex() *CauseIndex {
	return &CauseIndex{byID: map[string]int32{}, children: map[string][]int32{}, byObject: map[string][]int32{}, intern: map[string]string{}}
}

// TraceOptions shape a trace.
type TraceOptions struct {
	Why      bool   // explain one event only (default: the object's last)
	Seq      uint64 // the event to explain (0: last with Why, first otherwise)
	MaxNodes int    // bound on the downward trees; default 1000
	MaxDepth int    // default 32
}

func objectKey(resource, ns, name string) string { return resource + "/" + ns + "/" + name }

func (x *CauseIndex) str(s string) string {
	if v, ok := x.intern[s]; ok {
		return v
	}
	x.intern[s] = s
	return s
}

// Update indexes the events the history holds beyond what is indexed.
func (x *CauseIndex) Update(ctx context.Context, h History) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	b, err := h.Bounds(ctx)
	if err != nil {
		return err
	}
	if x.next == 0 || x.next < b.FirstSeq {
		x.next = b.FirstSeq
	}
	if b.LastSeq < x.next {
		return nil
	}
	return h.Events(ctx, EventQuery{From: x.next, To: b.LastSeq, HeadersOnly: true}, func(ev *events.Event) error {
		x.addLocked(ev)
		return nil
	})
}

// Add indexes one event (events must come in order).
func (x *CauseIndex) Add(ev *events.Event) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addLocked(ev)
}

func (x *CauseIndex) addLocked(ev *events.Event) {
	if ev.Seq != 0 && ev.Seq < x.next {
		return
	}
	t := ev.Time
	if t.IsZero() {
		t = ev.Stamp
	}
	i := int32(len(x.nodes))
	x.nodes = append(x.nodes, api.TraceStep{
		Seq: ev.Seq, ID: ev.ID, Type: ev.Type, Resource: x.str(ev.Resource), Namespace: x.str(ev.Namespace),
		Name: ev.Name, Actor: x.str(ev.Actor), Cause: ev.Cause, Time: t,
	})
	if ev.ID != "" {
		x.byID[ev.ID] = i
	}
	if ev.Cause != "" {
		x.children[ev.Cause] = append(x.children[ev.Cause], i)
	}
	k := objectKey(ev.Resource, ev.Namespace, ev.Name)
	x.byObject[k] = append(x.byObject[k], i)
	x.next = ev.Seq + 1
}

// Len is how many events are indexed.
func (x *CauseIndex) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.nodes)
}

// Lookup finds an indexed event by id.
func (x *CauseIndex) Lookup(id string) (api.TraceStep, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	i, ok := x.byID[id]
	if !ok {
		return api.TraceStep{}, false
	}
	return x.nodes[i], true
}

// Trace builds the causation trace of one object.
func (x *CauseIndex) Trace(resource, ns, name string, o TraceOptions) (*api.TraceResult, error) {
	if o.MaxNodes <= 0 {
		o.MaxNodes = 1000
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = 32
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	idx := x.byObject[objectKey(resource, ns, name)]
	if len(idx) == 0 {
		return nil, events.Errorf(events.ReasonNotFound, "%s %q has no events in the log", resource, events.ObjectKey(ns, name))
	}
	res := &api.TraceResult{Resource: resource, Namespace: ns, Name: name}
	explain := idx[0]
	if o.Why {
		explain = idx[len(idx)-1]
	}
	if o.Seq != 0 {
		found := false
		for _, i := range idx {
			if x.nodes[i].Seq == o.Seq {
				explain, found = i, true
			}
		}
		if !found {
			return nil, events.Errorf(events.ReasonNotFound, "event #%d is not an event of %s %s", o.Seq, resource, events.ObjectKey(ns, name))
		}
	}
	res.Why, res.Root, res.Missing = x.chainLocked(explain)
	if o.Why {
		return res, nil
	}
	shown := map[int32]bool{}
	budget := o.MaxNodes
	for _, i := range idx {
		if shown[i] {
			continue
		}
		n := x.treeLocked(i, nil, shown, &budget, o.MaxDepth)
		res.Events = append(res.Events, n)
	}
	res.Truncated = budget <= 0
	return res, nil
}

// chainLocked walks cause links upward from event i: the chain root first.
func (x *CauseIndex) chainLocked(i int32) (chain []api.TraceStep, root, missing string) {
	seen := map[int32]bool{}
	for {
		chain = append(chain, x.nodes[i])
		seen[i] = true
		c := x.nodes[i].Cause
		if c == "" {
			break
		}
		p, ok := x.byID[c]
		if !ok || seen[p] {
			if !ok && !strings.HasPrefix(c, "req:") && LooksLikeEventID(c) {
				missing = c
			}
			root = c
			break
		}
		i = p
	}
	for l, r := 0, len(chain)-1; l < r; l, r = l+1, r-1 {
		chain[l], chain[r] = chain[r], chain[l]
	}
	for j := 1; j < len(chain); j++ {
		chain[j].Delta = chain[j].Time.Sub(chain[j-1].Time).Seconds()
	}
	return chain, root, missing
}

// treeLocked builds the downward tree from event i.
func (x *CauseIndex) treeLocked(i int32, parent *api.TraceStep, shown map[int32]bool, budget *int, depth int) *api.TraceNode {
	shown[i] = true
	*budget--
	n := &api.TraceNode{TraceStep: x.nodes[i]}
	if parent != nil {
		n.Delta = n.Time.Sub(parent.Time).Seconds()
	}
	if depth <= 0 {
		return n
	}
	kids := append([]int32(nil), x.children[x.nodes[i].ID]...)
	sort.Slice(kids, func(a, b int) bool { return x.nodes[kids[a]].Seq < x.nodes[kids[b]].Seq })
	for _, k := range kids {
		if shown[k] || *budget <= 0 {
			continue
		}
		n.Children = append(n.Children, x.treeLocked(k, &n.TraceStep, shown, budget, depth-1))
	}
	return n
}

// LooksLikeEventID reports whether a cause has the shape of an event id
// (a NATS nuid: 22 base-62 characters) rather than a free-form cause.
func LooksLikeEventID(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
