package manager

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// KVEntry is the latest revision of one key of a watched KV bucket.
type KVEntry struct {
	Key      string
	Value    []byte
	Revision uint64
	Created  time.Time // the server's time of this revision
	// Seen is when the watch delivered this revision, on Env.Clock; for
	// a revision that was already in the bucket when the watch (re)started
	// it is Created, since it may be much older than its delivery.
	Seen time.Time
}

// KV is a KV bucket as a reconciler input: the manager watches the bucket
// while it runs, keeps the latest revision of every key here for the
// reconciler to read, and turns each change into reconcile keys, as it
// does for store changes. A reconciler makes one with NewKV and returns it
// from its KVInputs; Reconcile only reads it (Get).
type KV struct {
	bucket string
	keys   func(e KVEntry, deleted bool) []string

	mu      sync.RWMutex
	entries map[string]KVEntry
	synced  chan struct{} // closed after the first complete delivery
	once    sync.Once
}

// KVInputs is implemented by reconcilers with KV-backed inputs. The manager
// starts a reconciler's workers only once each of its inputs has delivered
// the bucket's current contents.
type KVInputs interface {
	KVInputs() []*KV
}

// NewKV returns the input of bucket. keys maps a changed entry to the keys
// to reconcile (deleted: the key was removed or expired); nil keys, or a
// nil result, enqueue nothing.
func NewKV(bucket string, keys func(e KVEntry, deleted bool) []string) *KV {
	return &KV{bucket: bucket, keys: keys, entries: map[string]KVEntry{}, synced: make(chan struct{})}
}

// Bucket is the watched bucket's name.
func (k *KV) Bucket() string { return k.bucket }

// Get returns the latest revision of key seen by the watch.
func (k *KV) Get(key string) (KVEntry, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	e, ok := k.entries[key]
	return e, ok
}

// Entries returns the latest revision of every key seen by the watch, in
// no particular order.
func (k *KV) Entries() []KVEntry {
	k.mu.RLock()
	defer k.mu.RUnlock()
	out := make([]KVEntry, 0, len(k.entries))
	for _, e := range k.entries {
		out = append(out, e)
	}
	return out
}

// Synced is closed once the watch has delivered the bucket's contents for
// the first time; before that, Get misses keys that exist.
func (k *KV) Synced() <-chan struct{} { return k.synced }

// KV watch back-off after a failure: doubling from kvRetryMin to kvRetryMax.
const (
	kvRetryMin = 100 * time.Millisecond
	kvRetryMax = 10 * time.Second
)

// Run keeps k current until ctx ends. It opens the bucket and watches every
// key; when opening fails or the watch ends before ctx does, it logs a
// warning and starts over after a back-off, then compares the redelivered
// contents with what it held, so changes missed meanwhile are not lost.
// enqueue gets the reconcile keys of every change (the first delivery
// counts as changes too); synced, if not nil, is called once this run has
// delivered the bucket's contents. The manager calls Run; tests that drive
// a reconciler without a manager may call it themselves.
func (k *KV) Run(ctx context.Context, env Env, enqueue func(keys []string), synced func()) {
	log := env.Logger
	if log == nil {
		log = zap.NewNop()
	}
	log = log.With(zap.String("bucket", k.bucket))
	if env.Clock == nil {
		env.Clock = clock.RealClock{}
	}
	wait := kvRetryMin
	for ctx.Err() == nil {
		err := k.watch(ctx, env, enqueue, func() {
			wait = kvRetryMin
			if synced != nil {
				synced()
				synced = nil
			}
		})
		if ctx.Err() != nil {
			return
		}
		log.Warn("KV input watch failed; retrying", zap.Duration("after", wait), zap.Error(err))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(2*wait, kvRetryMax)
	}
}

// watch runs one watch until it fails or ctx ends.
func (k *KV) watch(ctx context.Context, env Env, enqueue func([]string), synced func()) error {
	if env.Writer == nil {
		return fmt.Errorf("watching KV bucket %s: no JetStream (Env.Writer is nil)", k.bucket)
	}
	kv, err := env.Writer.JetStream().KeyValue(ctx, k.bucket)
	if err != nil {
		return fmt.Errorf("opening KV bucket %s: %w", k.bucket, err)
	}
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watching KV bucket %s: %w", k.bucket, err)
	}
	defer func() { _ = w.Stop() }()
	replay := map[string]bool{} // keys delivered before the end-of-contents marker
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case e, ok := <-w.Updates():
			if !ok {
				return fmt.Errorf("watch of KV bucket %s closed", k.bucket)
			}
			if e == nil { // the bucket's contents are all delivered
				if replay != nil {
					k.endReplay(replay, enqueue)
					replay = nil
					k.once.Do(func() { close(k.synced) })
					synced()
				}
				continue
			}
			if replay != nil {
				replay[e.Key()] = true
			}
			k.apply(e.Key(), e.Value(), e.Revision(), e.Created(), e.Operation() != jetstream.KeyValuePut, replay != nil, env.Clock.Now, enqueue)
		}
	}
}

// apply records one delivered revision; replaying: it was delivered as part
// of the bucket's contents when the watch started.
func (k *KV) apply(key string, value []byte, rev uint64, created time.Time, deleted, replaying bool, now func() time.Time, enqueue func([]string)) {
	k.mu.Lock()
	old, had := k.entries[key]
	if had && old.Revision == rev {
		k.mu.Unlock()
		return // redelivered after a re-watch: nothing changed
	}
	e := KVEntry{Key: key, Value: value, Revision: rev, Created: created, Seen: created}
	if !replaying {
		e.Seen = now()
	}
	if deleted {
		delete(k.entries, key)
	} else {
		k.entries[key] = e
	}
	k.mu.Unlock()
	if deleted && !had {
		return
	}
	k.changed(e, deleted, enqueue)
}

// endReplay drops the keys that are no longer in the bucket: removed or
// expired while no watch ran.
func (k *KV) endReplay(delivered map[string]bool, enqueue func([]string)) {
	var gone []KVEntry
	k.mu.Lock()
	for key, e := range k.entries {
		if !delivered[key] {
			gone = append(gone, e)
			delete(k.entries, key)
		}
	}
	k.mu.Unlock()
	for _, e := range gone {
		k.changed(e, true, enqueue)
	}
}

func (k *KV) changed(e KVEntry, deleted bool, enqueue func([]string)) {
	if k.keys == nil || enqueue == nil {
		return
	}
	if keys := k.keys(e, deleted); len(keys) > 0 {
		enqueue(keys)
	}
}
