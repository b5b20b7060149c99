package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// Entry is one object in a view: its index fields and its JSON. Entries
// are immutable once stored; an update replaces the entry.
type Entry struct {
	Resource  string
	Namespace string
	Name      string
	UID       string
	Seq       uint64 // resourceVersion: the sequence of its last event
	Labels    map[string]string
	NodeName  string
	Owners    []string
	Data      []byte // JSON without resourceVersion
}

// Key is "ns/name" or "name".
func (e *Entry) Key() string { return events.ObjectKey(e.Namespace, e.Name) }

// JSON is the entry as the object's JSON with its resourceVersion: the
// one place a stored entry becomes the object clients see. It splices the
// resourceVersion into the stored JSON rather than decoding and
// re-encoding the object.
func (e *Entry) JSON() json.RawMessage {
	const meta = `"metadata":{`
	i := bytes.Index(e.Data, []byte(meta))
	if i < 0 {
		obj, err := e.Object()
		if err != nil {
			return e.Data
		}
		data, _ := json.Marshal(obj)
		return data
	}
	i += len(meta)
	rv := `"resourceVersion":"` + events.ResourceVersion(e.Seq) + `"`
	out := make([]byte, 0, len(e.Data)+len(rv)+1)
	out = append(out, e.Data[:i]...)
	out = append(out, rv...)
	if e.Data[i] != '}' {
		out = append(out, ',')
	}
	out = append(out, e.Data[i:]...)
	return out
}

// Object decodes the entry into its typed object, resourceVersion set.
func (e *Entry) Object() (objects.Object, error) {
	k := kindOf(e.Resource)
	if k == nil {
		return nil, fmt.Errorf("entry %s/%s: unknown resource", e.Resource, e.Key())
	}
	obj, err := objects.DecodeStored(k, e.Data)
	if err != nil {
		return nil, err
	}
	obj.SetResourceVersion(events.ResourceVersion(e.Seq))
	return obj, nil
}

var resourceKinds = func() map[string]*objects.Kind {
	m := map[string]*objects.Kind{}
	for _, k := range objects.All() {
		m[k.Resource] = k
	}
	return m
}()

func kindOf(resource string) *objects.Kind { return resourceKinds[resource] }

// table holds one resource's entries, indexed by namespace, node and owner.
type table struct {
	byNS    map[string]map[string]*Entry // namespace -> name -> entry
	byNode  map[string]map[string]*Entry // node -> key -> entry
	byOwner map[string]map[string]*Entry // owner uid -> key -> entry
	count   int
	gen     uint64 // counts changes

	// sorted caches lists' order by namespace ("" for all), valid while
	// sortedGen == gen (list.go). Readers share the store's read lock, so
	// it has a lock of its own.
	sortedMu  sync.Mutex
	sorted    map[string][]*Entry
	sortedGen uint64
}

func newTable() *table {
	return &table{byNS: map[string]map[string]*Entry{}, byNode: map[string]map[string]*Entry{}, byOwner: map[string]map[string]*Entry{}}
}

func (t *table) get(ns, name string) *Entry { return t.byNS[ns][name] }

func (t *table) put(e *Entry) {
	t.gen++
	if old := t.get(e.Namespace, e.Name); old != nil {
		t.unindex(old)
	} else {
		t.count++
	}
	m := t.byNS[e.Namespace]
	if m == nil {
		m = map[string]*Entry{}
		t.byNS[e.Namespace] = m
	}
	m[e.Name] = e
	key := e.Key()
	if e.NodeName != "" {
		addIdx(t.byNode, e.NodeName, key, e)
	}
	for _, o := range e.Owners {
		addIdx(t.byOwner, o, key, e)
	}
}

func (t *table) remove(ns, name string) {
	t.gen++
	old := t.get(ns, name)
	if old == nil {
		return
	}
	t.unindex(old)
	delete(t.byNS[ns], name)
	if len(t.byNS[ns]) == 0 {
		delete(t.byNS, ns)
	}
	t.count--
}

func (t *table) unindex(e *Entry) {
	key := e.Key()
	if e.NodeName != "" {
		delIdx(t.byNode, e.NodeName, key)
	}
	for _, o := range e.Owners {
		delIdx(t.byOwner, o, key)
	}
}

func addIdx(idx map[string]map[string]*Entry, k, key string, e *Entry) {
	m := idx[k]
	if m == nil {
		m = map[string]*Entry{}
		idx[k] = m
	}
	m[key] = e
}

func delIdx(idx map[string]map[string]*Entry, k, key string) {
	if m := idx[k]; m != nil {
		delete(m, key)
		if len(m) == 0 {
			delete(idx, k)
		}
	}
}

// Store is a view of the cluster folded from events.
type Store struct {
	mu       sync.RWMutex
	tables   map[string]*table
	lastSeq  uint64
	lastTime time.Time // stream time of the last applied event
	changed  *sync.Cond
	watchers map[*watcher]struct{}
	err      error // set when the feeding projection stopped on a bad event
}

// NewStore returns an empty view.
func NewStore() *Store {
	s := &Store{tables: map[string]*table{}, watchers: map[*watcher]struct{}{}}
	s.changed = sync.NewCond(s.mu.RLocker())
	return s
}

// Apply folds one event into the view. Events must come in sequence order;
// an event at or below the last applied sequence is ignored, so replays
// that overlap a snapshot are harmless.
func (s *Store) Apply(ev *events.Event) {
	s.mu.Lock()
	if ev.Seq != 0 && ev.Seq <= s.lastSeq {
		s.mu.Unlock()
		return
	}
	e := s.applyLocked(ev)
	s.notifyLocked(ev, e)
	s.mu.Unlock()
	s.changed.Broadcast()
}

func (s *Store) applyLocked(ev *events.Event) *Entry {
	t := s.tables[ev.Resource]
	if t == nil {
		t = newTable()
		s.tables[ev.Resource] = t
	}
	var e *Entry
	if ev.Type == events.TypeDeleted {
		t.remove(ev.Namespace, ev.Name)
	} else {
		e = &Entry{
			Resource: ev.Resource, Namespace: ev.Namespace, Name: ev.Name, UID: ev.UID,
			Seq: ev.Seq, Labels: ev.Labels, NodeName: ev.NodeName, Owners: ev.Owners, Data: ev.Object,
		}
		t.put(e)
	}
	if ev.Seq > s.lastSeq {
		s.lastSeq = ev.Seq
	}
	if !ev.Stamp.IsZero() {
		s.lastTime = ev.Stamp
	}
	return e
}

// LastSeq is the sequence of the last applied event.
func (s *Store) LastSeq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastSeq
}

// LastTime is the stream time of the last applied event.
func (s *Store) LastTime() time.Time {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lastTime
}

// Count returns how many objects of a resource the view holds.
func (s *Store) Count(resource string) int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if t := s.tables[resource]; t != nil {
		return t.count
	}
	return 0
}

// fail marks the view broken: reads return err from now on.
func (s *Store) fail(err error) {
	s.mu.Lock()
	s.err = err
	for w := range s.watchers {
		w.close(err)
	}
	s.mu.Unlock()
	s.changed.Broadcast()
}

// Err is the error that stopped the view's feed, if any.
func (s *Store) Err() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.err
}

// WaitFor blocks until the view has applied seq, so a client reads its own
// writes. It fails if ctx ends first or the feed has stopped.
func (s *Store) WaitFor(ctx context.Context, seq uint64) error {
	s.mu.RLock()
	if s.lastSeq >= seq || s.err != nil {
		err := s.err
		s.mu.RUnlock()
		return err
	}
	s.mu.RUnlock()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			// Taking the lock orders this wake-up after a waiter's check:
			// a waiter holds the read lock from its check until Wait.
			s.mu.Lock()
			s.mu.Unlock()
			s.changed.Broadcast()
		case <-done:
		}
	}()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for s.lastSeq < seq && s.err == nil {
		if ctx.Err() != nil {
			return events.Errorf(events.ReasonTimeout, "view has applied #%d, waiting for #%d: %v", s.lastSeq, seq, ctx.Err())
		}
		s.changed.Wait()
	}
	return s.err
}

// Get returns one entry.
func (s *Store) Get(resource, namespace, name string) (*Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	t := s.tables[resource]
	if t == nil {
		return nil, false
	}
	e := t.get(namespace, name)
	return e, e != nil
}

// Namespaces lists the namespaces that hold objects of a resource.
func (s *Store) Namespaces(resource string) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	if t := s.tables[resource]; t != nil {
		for ns := range t.byNS {
			out = append(out, ns)
		}
	}
	sort.Strings(out)
	return out
}

// clone copies the view: entries are immutable and shared, the indexes
// are copied, so the clone can be folded further without touching s.
func (s *Store) clone() *Store {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := NewStore()
	c.lastSeq, c.lastTime = s.lastSeq, s.lastTime
	for res, t := range s.tables {
		nt := &table{count: t.count, byNS: copyIdx(t.byNS), byNode: copyIdx(t.byNode), byOwner: copyIdx(t.byOwner)}
		c.tables[res] = nt
	}
	return c
}

func copyIdx(idx map[string]map[string]*Entry) map[string]map[string]*Entry {
	out := make(map[string]map[string]*Entry, len(idx))
	for k, m := range idx {
		nm := make(map[string]*Entry, len(m))
		for kk, e := range m {
			nm[kk] = e
		}
		out[k] = nm
	}
	return out
}
