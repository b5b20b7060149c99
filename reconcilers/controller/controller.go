package controller

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

// Options configures a Controller. Zero values get defaults.
type Options struct {
	Name         string                             // for logs; default "controller"
	Workers      int                                // concurrent reconciles; default 1
	Clock        clock.WithTicker                   // default clock.RealClock
	Logger       *zap.Logger                        // default zap.NewNop()
	RateLimiter  workqueue.TypedRateLimiter[string] // default workqueue.DefaultTypedControllerRateLimiter
	DrainTimeout time.Duration                      // how long shutdown lets reconciles finish before cancelling their context; default 30 s
}

// Controller feeds keys from client-go's rate-limiting work queue to a
// Reconciler with N workers.
type Controller struct {
	name    string
	r       Reconciler
	queue   workqueue.TypedRateLimitingInterface[string]
	limiter workqueue.TypedRateLimiter[string] // the queue's; Forget and NumRequeues go through the queue
	clock   clock.WithTicker
	log     *zap.Logger
	workers int
	drain   time.Duration
	stats   counters
	waiting waiting

	adds, retries atomic.Uint64

	mu      sync.Mutex
	resyncs []resync
	running bool
}

type resync struct {
	keys  func() []string
	every time.Duration
}

// New returns a controller for r; call Run to start it. Keys may be
// enqueued before Run.
func New(r Reconciler, o Options) *Controller {
	if o.Name == "" {
		o.Name = "controller"
	}
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.RateLimiter == nil {
		o.RateLimiter = workqueue.DefaultTypedControllerRateLimiter[string]()
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	return &Controller{
		name: o.Name,
		r:    r,
		queue: workqueue.NewTypedRateLimitingQueueWithConfig(o.RateLimiter,
			workqueue.TypedRateLimitingQueueConfig[string]{Name: o.Name, Clock: o.Clock}),
		limiter: o.RateLimiter,
		clock:   o.Clock,
		log:     o.Logger.With(zap.String("controller", o.Name)),
		workers: o.Workers,
		drain:   o.DrainTimeout,
	}
}

// Enqueue asks for key to be reconciled.
func (c *Controller) Enqueue(key string) {
	if c.queue.ShuttingDown() {
		return
	}
	c.adds.Add(1)
	c.queue.Add(key)
}

// EnqueueAfter asks for key to be reconciled once d has passed. If key is
// already waiting, the earlier of the two deadlines wins.
func (c *Controller) EnqueueAfter(key string, d time.Duration) {
	if c.queue.ShuttingDown() {
		return
	}
	c.adds.Add(1)
	c.waiting.note(key, c.clock.Now(), d)
	c.queue.AddAfter(key, d)
}

// retry requeues key after the rate limiter's delay and counts a retry.
func (c *Controller) retry(key string) {
	if c.queue.ShuttingDown() {
		return
	}
	d := c.limiter.When(key) // what AddRateLimited does, with the delay kept for Waiting
	c.adds.Add(1)
	c.retries.Add(1)
	c.waiting.note(key, c.clock.Now(), d)
	c.queue.AddAfter(key, d)
}

// Resync enqueues every key that keys returns, every period, while the
// controller runs: a safety net for missed notifications. Call it before
// Run. A period <= 0 or a nil keys disables it.
func (c *Controller) Resync(keys func() []string, every time.Duration) {
	if every <= 0 || keys == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resyncs = append(c.resyncs, resync{keys: keys, every: every})
}

// Metrics returns a copy of the controller's counters.
func (c *Controller) Metrics() Metrics {
	m := c.stats.snapshot()
	m.Depth = c.queue.Len()
	m.Waiting = c.waiting.count(c.clock.Now())
	m.Adds, m.Retries = c.adds.Load(), c.retries.Load()
	return m
}

// Run reconciles keys until ctx ends, then drains: no more keys are
// accepted, delayed adds and pending retries are dropped, keys already
// queued are reconciled once more, and Run returns when every worker has
// finished. Reconciles run with a context that outlives ctx by at most
// DrainTimeout. Run may be called once.
func (c *Controller) Run(ctx context.Context) error {
	c.mu.Lock()
	if c.running {
		c.mu.Unlock()
		return fmt.Errorf("running controller %s: already started", c.name)
	}
	c.running = true
	resyncs := append([]resync(nil), c.resyncs...)
	c.mu.Unlock()

	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()

	var wg sync.WaitGroup
	for i := 0; i < c.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c.processNext(workCtx) {
			}
		}()
	}
	var resyncWG sync.WaitGroup
	for _, rs := range resyncs {
		resyncWG.Add(1)
		go func() {
			defer resyncWG.Done()
			c.resyncLoop(ctx, rs)
		}()
	}

	<-ctx.Done()
	c.log.Info("draining")
	resyncWG.Wait()
	c.queue.ShutDown()
	c.waiting.clear()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-c.clock.After(c.drain):
		c.log.Warn("drain timeout: cancelling reconciles", zap.Duration("timeout", c.drain))
		cancelWork()
		<-done
	}
	return nil
}

// resyncLoop enqueues rs.keys() every rs.every until ctx ends.
func (c *Controller) resyncLoop(ctx context.Context, rs resync) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.clock.After(rs.every):
		}
		for _, k := range rs.keys() {
			c.Enqueue(k)
		}
	}
}

// processNext reconciles one key; it returns false once the queue is shut
// down and empty.
func (c *Controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	c.stats.inFlight(1)
	defer c.stats.inFlight(-1)

	start := c.clock.Now()
	res, err, panicked := c.call(ctx, key)
	elapsed := c.clock.Now().Sub(start)
	terminal := err != nil && IsTerminal(err)
	c.stats.observe(elapsed, err, terminal, panicked, err == nil && res.RequeueAfter > 0)

	switch {
	case terminal:
		c.queue.Forget(key)
		c.log.Error("reconcile failed, not retrying", zap.String("key", key), zap.Error(err))
	case err != nil:
		c.log.Debug("reconcile failed, retrying", zap.String("key", key), zap.Int("retries", c.queue.NumRequeues(key)), zap.Error(err))
		c.retry(key)
	case res.RequeueAfter > 0:
		c.queue.Forget(key)
		c.EnqueueAfter(key, res.RequeueAfter)
	default:
		c.queue.Forget(key)
	}
	return true
}

// call runs the reconciler, turning a panic into an error.
func (c *Controller) call(ctx context.Context, key string) (res Result, err error, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			res, err, panicked = Result{}, fmt.Errorf("reconciling %s: panic: %v", key, p), true
		}
	}()
	res, err = c.r.Reconcile(ctx, key)
	if err != nil {
		err = fmt.Errorf("reconciling %s: %w", key, err)
	}
	return res, err, false
}

// waiting keeps the deadline of every key the controller handed to the
// queue with a delay, so Metrics can report how many are still waiting
// (client-go's delaying queue does not say). Like the queue it keeps the
// earlier deadline of a key added twice; a deadline that has passed has
// fired, since the queue and this use the same clock.
type waiting struct {
	mu sync.Mutex
	at map[string]time.Time
}

func (w *waiting) note(key string, now time.Time, d time.Duration) {
	if d <= 0 {
		return
	}
	at := now.Add(d)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.at == nil {
		w.at = map[string]time.Time{}
	}
	if old, ok := w.at[key]; ok && old.After(now) && !old.After(at) {
		return
	}
	w.at[key] = at
}

// count returns the keys whose deadline is after now, forgetting the rest.
func (w *waiting) count(now time.Time) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	for k, at := range w.at {
		if !at.After(now) {
			delete(w.at, k)
		}
	}
	return len(w.at)
}

// clear forgets every deadline: a shut-down queue drops its delayed adds.
func (w *waiting) clear() {
	w.mu.Lock()
	w.at = nil
	w.mu.Unlock()
}
