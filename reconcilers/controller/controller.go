package controller

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Options configures a Controller. Zero values get defaults.
type Options struct {
	Name         string              // for logs; default "controller"
	Workers      int                 // concurrent reconciles; default 1
	Clock        Clock               // default RealClock
	Logger       *zap.Logger         // default zap.NewNop()
	RateLimiter  RateLimiter[string] // default DefaultRateLimiter
	DrainTimeout time.Duration       // how long shutdown lets reconciles finish before cancelling their context; default 30 s
}

// Controller feeds keys from a Queue to a Reconciler with N workers.
type Controller struct {
	name    string
	r       Reconciler
	queue   *Queue[string]
	clock   Clock
	log     *zap.Logger
	workers int
	drain   time.Duration
	stats   counters

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
		o.Clock = RealClock{}
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	if o.RateLimiter == nil {
		o.RateLimiter = DefaultRateLimiter[string](o.Clock)
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = 30 * time.Second
	}
	return &Controller{
		name:    o.Name,
		r:       r,
		queue:   NewQueue[string](o.Clock, o.RateLimiter),
		clock:   o.Clock,
		log:     o.Logger.With(zap.String("controller", o.Name)),
		workers: o.Workers,
		drain:   o.DrainTimeout,
	}
}

// Enqueue asks for key to be reconciled.
func (c *Controller) Enqueue(key string) { c.queue.Add(key) }

// EnqueueAfter asks for key to be reconciled once d has passed.
func (c *Controller) EnqueueAfter(key string, d time.Duration) { c.queue.AddAfter(key, d) }

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
	m.Waiting = c.queue.Waiting()
	m.Adds, m.Retries = c.queue.counters()
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
			c.queue.Add(k)
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
		c.queue.AddRateLimited(key)
	case res.RequeueAfter > 0:
		c.queue.Forget(key)
		c.queue.AddAfter(key, res.RequeueAfter)
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
