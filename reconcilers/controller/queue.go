package controller

import (
	"container/heap"
	"sync"
	"time"
)

// Queue is a work queue of keys with client-go's semantics:
//
//   - de-duplication: a key added many times before a worker takes it is
//     handed out once;
//   - exclusivity: a key is never handed to two workers at once; a key
//     added while it is being processed is handed out again after Done;
//   - delayed adds (AddAfter) and rate-limited retries (AddRateLimited);
//   - ShutDown stops accepting keys, drops pending delayed adds, and lets
//     Get hand out what is already queued before reporting shutdown.
//
// Lock order: Queue.mu is a leaf; the rate limiter is called without it.
type Queue[K comparable] struct {
	clock   Clock
	limiter RateLimiter[K]

	mu           sync.Mutex
	cond         *sync.Cond
	fifo         []K
	dirty        map[K]struct{} // queued (in fifo or waiting for Done)
	processing   map[K]struct{} // handed out, not yet Done
	shuttingDown bool
	waiting      delayHeap[K]
	waitingAt    map[K]*delayed[K]
	wake         chan struct{}
	stopped      chan struct{}

	adds, retries uint64 // guarded by mu
}

// NewQueue returns a running queue; call ShutDown to stop its delay loop.
// A nil limiter means DefaultRateLimiter.
func NewQueue[K comparable](clock Clock, limiter RateLimiter[K]) *Queue[K] {
	if clock == nil {
		clock = RealClock{}
	}
	if limiter == nil {
		limiter = DefaultRateLimiter[K](clock)
	}
	q := &Queue[K]{
		clock:      clock,
		limiter:    limiter,
		dirty:      map[K]struct{}{},
		processing: map[K]struct{}{},
		waitingAt:  map[K]*delayed[K]{},
		wake:       make(chan struct{}, 1),
		stopped:    make(chan struct{}),
	}
	q.cond = sync.NewCond(&q.mu)
	go q.delayLoop()
	return q
}

// Add queues item now. It is a no-op after ShutDown.
func (q *Queue[K]) Add(item K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(item)
}

// addLocked must be called with q.mu held.
func (q *Queue[K]) addLocked(item K) {
	if q.shuttingDown {
		return
	}
	q.adds++
	if _, ok := q.dirty[item]; ok {
		return
	}
	q.dirty[item] = struct{}{}
	if _, ok := q.processing[item]; ok {
		return // re-queued by Done
	}
	q.fifo = append(q.fifo, item)
	q.cond.Signal()
}

// AddAfter queues item once d has passed. If item is already waiting, the
// earlier of the two deadlines wins.
func (q *Queue[K]) AddAfter(item K, d time.Duration) {
	if d <= 0 {
		q.Add(item)
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	at := q.clock.Now().Add(d)
	if e, ok := q.waitingAt[item]; ok {
		if at.Before(e.at) {
			e.at = at
			heap.Fix(&q.waiting, e.index)
			q.poke()
		}
		return
	}
	e := &delayed[K]{item: item, at: at}
	heap.Push(&q.waiting, e)
	q.waitingAt[item] = e
	q.poke()
}

// AddRateLimited queues item after the rate limiter's delay and counts a
// retry.
func (q *Queue[K]) AddRateLimited(item K) {
	d := q.limiter.When(item)
	q.mu.Lock()
	if q.shuttingDown {
		q.mu.Unlock()
		return
	}
	q.retries++
	q.mu.Unlock()
	q.AddAfter(item, d)
}

// Forget clears item's retry history (call it when item succeeded).
func (q *Queue[K]) Forget(item K) { q.limiter.Forget(item) }

// NumRequeues returns how many times item was retried since Forget.
func (q *Queue[K]) NumRequeues(item K) int { return q.limiter.NumRequeues(item) }

// Get blocks until a key is ready and hands it out; the caller must call
// Done with it. shutdown is true once the queue is shut down and empty.
func (q *Queue[K]) Get() (item K, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.fifo) == 0 && !q.shuttingDown {
		q.cond.Wait()
	}
	if len(q.fifo) == 0 {
		var zero K
		return zero, true
	}
	item = q.fifo[0]
	var zero K
	q.fifo[0] = zero
	q.fifo = q.fifo[1:]
	q.processing[item] = struct{}{}
	delete(q.dirty, item)
	return item, false
}

// Done marks item as processed; if it was added meanwhile it is queued
// again.
func (q *Queue[K]) Done(item K) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, item)
	if _, ok := q.dirty[item]; ok {
		q.fifo = append(q.fifo, item)
		q.cond.Signal()
	}
}

// Len returns the number of keys ready to be handed out.
func (q *Queue[K]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.fifo)
}

// Waiting returns the number of keys waiting for a delayed add.
func (q *Queue[K]) Waiting() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.waiting)
}

// ShutDown stops accepting keys, drops delayed adds, and wakes Get callers.
// Keys already queued are still handed out.
func (q *Queue[K]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shuttingDown {
		return
	}
	q.shuttingDown = true
	q.waiting = nil
	q.waitingAt = map[K]*delayed[K]{}
	close(q.stopped)
	q.cond.Broadcast()
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue[K]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shuttingDown
}

// counters returns the add and retry counts.
func (q *Queue[K]) counters() (adds, retries uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.adds, q.retries
}

// poke wakes the delay loop; q.mu must be held.
func (q *Queue[K]) poke() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// delayLoop moves delayed keys into the queue when they are due.
func (q *Queue[K]) delayLoop() {
	for {
		q.mu.Lock()
		if q.shuttingDown {
			q.mu.Unlock()
			return
		}
		now := q.clock.Now()
		for len(q.waiting) > 0 && !q.waiting[0].at.After(now) {
			e := heap.Pop(&q.waiting).(*delayed[K])
			delete(q.waitingAt, e.item)
			q.addLocked(e.item)
		}
		var timer <-chan time.Time
		if len(q.waiting) > 0 {
			timer = q.clock.After(q.waiting[0].at.Sub(now))
		}
		q.mu.Unlock()
		select {
		case <-q.stopped:
			return
		case <-q.wake:
		case <-timer:
		}
	}
}

// delayed is one key waiting in delayHeap.
type delayed[K comparable] struct {
	item  K
	at    time.Time
	index int
}

// delayHeap orders delayed keys by deadline.
type delayHeap[K comparable] []*delayed[K]

func (h delayHeap[K]) Len() int           { return len(h) }
func (h delayHeap[K]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h delayHeap[K]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *delayHeap[K]) Push(x any) {
	e := x.(*delayed[K])
	e.index = len(*h)
	*h = append(*h, e)
}
func (h *delayHeap[K]) Pop() any {
	old := *h
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return e
}
