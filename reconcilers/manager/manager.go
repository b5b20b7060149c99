// Package manager runs Strom's reconcilers against the live projection.
//
// A reconciler declares which resources it watches and how a change maps
// to its keys; the manager turns every applied event into keys on the
// reconciler's queue (reconcilers/controller), resyncs periodically, and
// records which event made a key dirty so that writes the reconciler
// makes carry that event's id as their cause (`strom trace` follows them).
// Reconcilers read state from the Store, never from the event: reconcile
// is level-based. Inputs that are not events (node heartbeats in a KV
// bucket) come in the same way: a reconciler declares a KV input
// (NewKV, KVInputs), the manager watches the bucket, keeps each key's
// latest revision readable, and maps each change to keys.
package manager

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
)

// Env is what reconcilers are given: the live view to read, the write
// path to write, a clock and a logger.
type Env struct {
	Store  *projections.Store
	Writer *events.Writer
	Clock  clock.PassiveClock
	Logger *zap.Logger
}

// Watch maps changes of one resource to a reconciler's keys.
type Watch struct {
	Resource string
	// Keys returns the keys to reconcile after ev; nil means the object's
	// own key ("ns/name" or "name").
	Keys func(ev *events.Event) []string
}

// Reconciler is one controller.
type Reconciler interface {
	controller.Reconciler
	Name() string
	Watches() []Watch
	// Keys lists every key, for the periodic resync.
	Keys() []string
}

// Options tune the manager.
type Options struct {
	Workers int           // per reconciler; default 2
	Resync  time.Duration // full resync period; default 5 minutes
}

// Manager runs reconcilers.
type Manager struct {
	env  Env
	opts Options
	rs   []Reconciler
}

// New returns a manager.
func New(env Env, opts Options) *Manager {
	if opts.Workers == 0 {
		opts.Workers = 2
	}
	if opts.Resync == 0 {
		opts.Resync = 5 * time.Minute
	}
	if env.Logger == nil {
		env.Logger = zap.NewNop()
	}
	return &Manager{env: env, opts: opts}
}

// Add registers a reconciler; call before Run.
func (m *Manager) Add(r Reconciler) { m.rs = append(m.rs, r) }

type causeKey struct{}

// Cause returns the id of the event that last made this reconcile's key
// dirty, for the Cause of the writes it makes ("" on a resync).
func Cause(ctx context.Context) string {
	if c, ok := ctx.Value(causeKey{}).(*causeRef); ok {
		return c.id
	}
	return ""
}

type causeRef struct{ id string }

// causes remembers, per key, the last event that enqueued it.
type causes struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *causes) set(key, id string) {
	c.mu.Lock()
	c.m[key] = id
	c.mu.Unlock()
}

func (c *causes) take(key string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.m[key]
	delete(c.m, key)
	return id
}

// withCause wraps a reconciler so each call sees its key's cause.
type withCause struct {
	r      Reconciler
	causes *causes
}

func (w withCause) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ctx = context.WithValue(ctx, causeKey{}, &causeRef{id: w.causes.take(key)})
	return w.r.Reconcile(ctx, key)
}

// Run runs every reconciler until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(m.rs))
	for _, r := range m.rs {
		r := r
		cs := &causes{m: map[string]string{}}
		workers := m.opts.Workers
		if w, ok := r.(interface{ Workers() int }); ok {
			workers = w.Workers()
		}
		c := controller.New(withCause{r: r, causes: cs}, controller.Options{
			Name: r.Name(), Workers: workers, Logger: m.env.Logger,
		})
		c.Resync(r.Keys, m.opts.Resync)
		for _, w := range r.Watches() {
			w := w
			watch, _ := m.env.Store.Watch(ctx, projections.Query{Resource: w.Resource})
			wg.Add(1)
			go func() {
				defer wg.Done()
				m.feed(ctx, c, cs, w, watch, r.Keys)
			}()
		}
		// Everything is dirty at start: level-based, nothing is missed
		// while the manager was not running.
		for _, k := range r.Keys() {
			c.Enqueue(k)
		}
		// KV inputs: the workers start once every input has delivered its
		// bucket's contents, so Reconcile never reads a half-filled view.
		var inputs []*KV
		if ki, ok := r.(KVInputs); ok {
			inputs = ki.KVInputs()
		}
		var synced []chan struct{}
		for _, kv := range inputs {
			ch := make(chan struct{})
			synced = append(synced, ch)
			wg.Add(1)
			go func() {
				defer wg.Done()
				kv.Run(ctx, m.env, func(keys []string) {
					for _, k := range keys {
						c.Enqueue(k)
					}
				}, func() { close(ch) })
			}()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !waitAll(ctx, synced) {
				return
			}
			if err := c.Run(ctx); err != nil {
				errs <- fmt.Errorf("reconciler %s: %w", r.Name(), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// waitAll waits until every channel is closed; false if ctx ended first.
func waitAll(ctx context.Context, chs []chan struct{}) bool {
	for _, ch := range chs {
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// feed turns watched changes into keys. If the watch falls behind and is
// closed, it re-watches and enqueues every key (level-based recovery).
func (m *Manager) feed(ctx context.Context, c *controller.Controller, cs *causes, w Watch, watch *projections.Watch, all func() []string) {
	for {
		for we := range watch.C {
			keys := []string{we.Event.Key()}
			if w.Keys != nil {
				keys = w.Keys(we.Event)
			}
			for _, k := range keys {
				cs.set(k, we.Event.ID)
				c.Enqueue(k)
			}
		}
		if ctx.Err() != nil {
			return
		}
		m.env.Logger.Warn("watch closed; re-watching and resyncing", zap.String("resource", w.Resource), zap.Error(watch.Err()))
		if err := m.env.Store.Err(); err != nil {
			return
		}
		watch, _ = m.env.Store.Watch(ctx, projections.Query{Resource: w.Resource})
		for _, k := range all() {
			c.Enqueue(k)
		}
	}
}
