package projections

import (
	"context"
	"fmt"
	"sync"

	"github.com/strom-project/strom/events"
)

// WatchEvent is one change delivered to a watcher: the event and, unless
// it is a deletion, the entry it produced.
type WatchEvent struct {
	Event *events.Event
	Entry *Entry // nil for deletions
}

// watchBuffer is how many events a watcher may fall behind before it is
// closed; a closed watcher re-watches from its last resourceVersion.
const watchBuffer = 4096

type watcher struct {
	q  Query
	ch chan WatchEvent

	mu     sync.Mutex
	closed bool
	err    error
}

func (w *watcher) send(we WatchEvent) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	select {
	case w.ch <- we:
	default:
		w.closed = true
		w.err = fmt.Errorf("watcher fell %d events behind; watch again from its last resourceVersion", watchBuffer)
		close(w.ch)
	}
}

func (w *watcher) close(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.closed = true
		w.err = err
		close(w.ch)
	}
}

// notifyLocked hands an applied event to matching watchers. s.mu is held.
func (s *Store) notifyLocked(ev *events.Event, e *Entry) {
	if len(s.watchers) == 0 {
		return
	}
	probe := e
	if probe == nil { // a deletion: match on the event's index fields
		probe = &Entry{Resource: ev.Resource, Namespace: ev.Namespace, Name: ev.Name, UID: ev.UID,
			Labels: ev.Labels, NodeName: ev.NodeName, Owners: ev.Owners, Data: ev.Object}
	}
	for w := range s.watchers {
		if w.q.Resource == ev.Resource && w.q.Matches(probe) {
			w.send(WatchEvent{Event: ev, Entry: e})
		}
	}
}

// Watch is a stream of changes to the entries a query selects.
type Watch struct {
	C <-chan WatchEvent
	w *watcher
	s *Store
}

// Err says why the channel closed: nil after Stop or context end.
func (w *Watch) Err() error {
	w.w.mu.Lock()
	defer w.w.mu.Unlock()
	return w.w.err
}

// Stop ends the watch.
func (w *Watch) Stop() {
	w.s.mu.Lock()
	delete(w.s.watchers, w.w)
	w.s.mu.Unlock()
	w.w.close(nil)
}

// Watch delivers every change after the view's current sequence, which it
// returns: list, then watch from the list's sequence, misses nothing.
// The watch ends when ctx does.
func (s *Store) Watch(ctx context.Context, q Query) (*Watch, uint64) {
	w := &watcher{q: q, ch: make(chan WatchEvent, watchBuffer)}
	s.mu.Lock()
	seq := s.lastSeq
	if s.err != nil {
		w.closed, w.err = true, s.err
		close(w.ch)
	} else {
		s.watchers[w] = struct{}{}
	}
	s.mu.Unlock()
	wt := &Watch{C: w.ch, w: w, s: s}
	go func() {
		<-ctx.Done()
		wt.Stop()
	}()
	return wt, seq
}

// ListAndWatch lists a query's entries and starts a watch at exactly the
// same point, atomically.
func (s *Store) ListAndWatch(ctx context.Context, q Query) ([]*Entry, *Watch, uint64) {
	w := &watcher{q: q, ch: make(chan WatchEvent, watchBuffer)}
	s.mu.Lock()
	if s.err != nil {
		w.closed, w.err = true, s.err
		close(w.ch)
	} else {
		s.watchers[w] = struct{}{}
	}
	seq := s.lastSeq
	items, _ := s.listLocked(q)
	s.mu.Unlock()
	wt := &Watch{C: w.ch, w: w, s: s}
	go func() {
		<-ctx.Done()
		wt.Stop()
	}()
	return items, wt, seq
}
