package manager_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/test/logtest"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func createBucket(t *testing.T, js jetstream.JetStream, name string) jetstream.KeyValue {
	t.Helper()
	kv, err := js.CreateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: name})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

type change struct {
	key     string
	deleted bool
}

// recv waits for the next change.
func recv(t *testing.T, ch <-chan change) change {
	t.Helper()
	select {
	case c := <-ch:
		return c
	case <-time.After(5 * time.Second):
		t.Fatal("no change enqueued within 5 s")
		return change{}
	}
}

// The input holds each key's latest revision, stamps revisions that were
// there before the watch with their creation and live ones with the
// clock, and maps puts and deletes to keys.
func TestKVInputFollowsBucket(t *testing.T) {
	clock := clocktesting.NewFakeClock(t0)
	l := logtest.StartLog(t, clock)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bucket := createBucket(t, l.JS, "TEST_INPUT")
	if _, err := bucket.Put(ctx, "old", []byte("1")); err != nil {
		t.Fatal(err)
	}
	changes := make(chan change, 16)
	kv := manager.NewKV("TEST_INPUT", func(e manager.KVEntry, deleted bool) []string {
		changes <- change{e.Key, deleted}
		return []string{"r/" + e.Key}
	})
	var mu sync.Mutex
	var enqueued []string
	synced := make(chan struct{})
	go kv.Run(ctx, manager.Env{Writer: l.Writer, Clock: clock, Logger: zap.NewNop()}, func(keys []string) {
		mu.Lock()
		enqueued = append(enqueued, keys...)
		mu.Unlock()
	}, func() { close(synced) })
	select {
	case <-synced:
	case <-time.After(5 * time.Second):
		t.Fatal("not synced")
	}
	select {
	case <-kv.Synced():
	default:
		t.Fatal("Synced not closed after the run's synced call")
	}
	if c := recv(t, changes); c != (change{"old", false}) {
		t.Fatalf("first change %+v", c)
	}
	e, ok := kv.Get("old")
	if !ok || string(e.Value) != "1" || e.Revision == 0 || !e.Seen.Equal(e.Created) {
		t.Fatalf("pre-existing entry %+v %v: want value 1, Seen = Created", e, ok)
	}
	clock.Step(time.Hour)
	if _, err := bucket.Put(ctx, "new", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, changes); c != (change{"new", false}) {
		t.Fatalf("live put: %+v", c)
	}
	if e, ok := kv.Get("new"); !ok || string(e.Value) != "2" || !e.Seen.Equal(t0.Add(time.Hour)) {
		t.Fatalf("live entry %+v %v: want value 2 seen at the clock's time", e, ok)
	}
	if err := bucket.Delete(ctx, "old"); err != nil {
		t.Fatal(err)
	}
	if c := recv(t, changes); c != (change{"old", true}) {
		t.Fatalf("delete: %+v", c)
	}
	if _, ok := kv.Get("old"); ok {
		t.Fatal("deleted key still readable")
	}
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(enqueued) != "[r/old r/new r/old]" {
		t.Fatalf("enqueued %v", enqueued)
	}
}

// A bucket that cannot be opened is a logged warning and a retry, until
// it exists.
func TestKVInputRetriesWithWarning(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	core, logs := observer.New(zap.WarnLevel)
	kv := manager.NewKV("TEST_LATE", nil)
	synced := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		kv.Run(ctx, manager.Env{Writer: l.Writer, Clock: clocktesting.NewFakeClock(t0), Logger: zap.New(core)}, nil, func() { close(synced) })
	}()
	logtest.Eventually(t, 5*time.Second, func() error {
		if n := logs.FilterMessage("KV input watch failed; retrying").Len(); n < 2 {
			return fmt.Errorf("%d warnings logged, want a retry after the first", n)
		}
		return nil
	})
	select {
	case <-synced:
		t.Fatal("synced without a bucket")
	default:
	}
	bucket := createBucket(t, l.JS, "TEST_LATE")
	if _, err := bucket.Put(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-synced:
	case <-time.After(15 * time.Second):
		t.Fatal("not synced after the bucket was created")
	}
	logtest.Eventually(t, 5*time.Second, func() error {
		if _, ok := kv.Get("k"); !ok {
			return fmt.Errorf("key k not readable")
		}
		return nil
	})
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

type kvReconciler struct {
	kv   *manager.KV
	mu   sync.Mutex
	seen map[string]bool // key → whether the KV input held it when reconciled
	keys chan string
}

func (r *kvReconciler) Name() string             { return "kvtest" }
func (r *kvReconciler) Watches() []manager.Watch { return nil }
func (r *kvReconciler) Keys() []string           { return nil }
func (r *kvReconciler) KVInputs() []*manager.KV  { return []*manager.KV{r.kv} }
func (r *kvReconciler) Reconcile(_ context.Context, key string) (controller.Result, error) {
	_, ok := r.kv.Get(key)
	r.mu.Lock()
	r.seen[key] = ok
	r.mu.Unlock()
	r.keys <- key
	return controller.Result{}, nil
}

// The manager runs a reconciler's KV input: the keys already in the bucket
// and each later change are reconciled, and Reconcile reads them from the
// input.
func TestManagerRunsKVInputs(t *testing.T) {
	clock := clocktesting.NewFakeClock(t0)
	l := logtest.StartLog(t, clock)
	ctx, cancel := context.WithCancel(context.Background())
	bucket := createBucket(t, l.JS, "TEST_MANAGER")
	if _, err := bucket.Put(ctx, "a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	r := &kvReconciler{seen: map[string]bool{}, keys: make(chan string, 16)}
	r.kv = manager.NewKV("TEST_MANAGER", func(e manager.KVEntry, _ bool) []string { return []string{e.Key} })
	m := manager.New(manager.Env{Writer: l.Writer, Clock: clock, Logger: zap.NewNop()}, manager.Options{Workers: 1})
	m.Add(r)
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	next := func() string {
		t.Helper()
		select {
		case k := <-r.keys:
			return k
		case <-time.After(5 * time.Second):
			t.Fatal("nothing reconciled within 5 s")
			return ""
		}
	}
	if k := next(); k != "a" {
		t.Fatalf("reconciled %q first, want a", k)
	}
	if _, err := bucket.Put(ctx, "b", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if k := next(); k != "b" {
		t.Fatalf("reconciled %q after a put of b", k)
	}
	r.mu.Lock()
	if !r.seen["a"] || !r.seen["b"] {
		t.Errorf("Reconcile did not read the keys from the input: %v", r.seen)
	}
	r.mu.Unlock()
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("manager did not stop")
	}
}
