package controller

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// startController runs c until the returned stop is called; stop waits for
// Run to return.
func startController(t *testing.T, c *Controller) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := recv(t, done, "Run to return"); err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestRetriesBackOffExponentiallyAndReset(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := make(chan string, 10)
	var mu sync.Mutex
	failures := 3
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		mu.Lock()
		defer mu.Unlock()
		calls <- key
		if failures > 0 {
			failures--
			return Result{}, errors.New("boom")
		}
		return Result{}, nil
	})
	c := New(r, Options{Clock: clock})
	startController(t, c)
	c.Enqueue("ns/a")
	recv(t, calls, "first try")
	now := epoch
	for _, d := range []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond} {
		waitTimer(t, clock, now.Add(d))
		clock.Step(d)
		now = now.Add(d)
		recv(t, calls, fmt.Sprintf("retry after %v", d))
	}
	eventually(t, "4 reconciles", func() bool { return c.Metrics().Reconciles == 4 })
	m := c.Metrics()
	if m.Errors != 3 || m.Retries != 3 {
		t.Fatalf("Errors=%d Retries=%d, want 3 and 3", m.Errors, m.Retries)
	}
	// A new failure after success starts again at 5 ms.
	mu.Lock()
	failures = 1
	mu.Unlock()
	c.Enqueue("ns/a")
	recv(t, calls, "fresh try")
	waitTimer(t, clock, now.Add(5*time.Millisecond))
	clock.Step(5 * time.Millisecond)
	recv(t, calls, "retry after reset")
}

func TestTerminalErrorIsNotRetried(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := make(chan string, 10)
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		calls <- key
		return Result{}, Terminal(errors.New("invalid spec"))
	})
	c := New(r, Options{Clock: clock})
	startController(t, c)
	c.Enqueue("ns/a")
	recv(t, calls, "reconcile")
	eventually(t, "reconcile counted", func() bool { return c.Metrics().Reconciles == 1 })
	m := c.Metrics()
	if m.TerminalErrors != 1 || m.Errors != 0 || m.Retries != 0 || m.Waiting != 0 || m.Depth != 0 {
		t.Fatalf("metrics after terminal error: %+v", m)
	}
	if w := clock.Timers(); len(w) != 0 {
		t.Fatalf("a retry timer was set: %v", w)
	}
}

func TestIsTerminalThroughWrapping(t *testing.T) {
	base := errors.New("x")
	err := fmt.Errorf("outer: %w", Terminal(base))
	if !IsTerminal(err) || !errors.Is(err, base) {
		t.Fatalf("wrapped terminal error lost: IsTerminal=%v Is=%v", IsTerminal(err), errors.Is(err, base))
	}
	if IsTerminal(base) || Terminal(nil) != nil {
		t.Fatalf("plain error reported terminal, or Terminal(nil) != nil")
	}
}

func TestRequeueAfter(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := make(chan time.Time, 10)
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		calls <- clock.Now()
		return Result{RequeueAfter: time.Minute}, nil
	})
	c := New(r, Options{Clock: clock})
	startController(t, c)
	c.Enqueue("k")
	recv(t, calls, "first reconcile")
	waitTimer(t, clock, epoch.Add(time.Minute))
	clock.Step(time.Minute)
	if at := recv(t, calls, "requeued reconcile"); !at.Equal(epoch.Add(time.Minute)) {
		t.Fatalf("requeued at %v, want %v", at, epoch.Add(time.Minute))
	}
	eventually(t, "requeue counted", func() bool { return c.Metrics().Requeues >= 2 })
}

func TestPanicIsRetried(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := make(chan int, 10)
	n := 0
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		n++
		calls <- n
		if n == 1 {
			panic("nil map")
		}
		return Result{}, nil
	})
	c := New(r, Options{Clock: clock})
	startController(t, c)
	c.Enqueue("k")
	recv(t, calls, "first call")
	waitTimer(t, clock, epoch.Add(5*time.Millisecond))
	clock.Step(5 * time.Millisecond)
	recv(t, calls, "retry after panic")
	eventually(t, "2 reconciles", func() bool { return c.Metrics().Reconciles == 2 })
	if m := c.Metrics(); m.Panics != 1 || m.Errors != 1 {
		t.Fatalf("Panics=%d Errors=%d, want 1 and 1", m.Panics, m.Errors)
	}
}

func TestNeverSameKeyConcurrentlyAndEveryAddIsSeen(t *testing.T) {
	const keys, rounds, workers = 20, 30, 4
	var mu sync.Mutex
	active := map[string]int{}
	addSeq := map[string]int{}   // sequence number of the last Add per key
	startSeq := map[string]int{} // highest Add sequence observed by a reconcile start
	seq := 0
	violations := 0
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		mu.Lock()
		active[key]++
		if active[key] > 1 {
			violations++
		}
		startSeq[key] = addSeq[key]
		mu.Unlock()
		for i := 0; i < 100; i++ { // a little work so reconciles overlap
			_ = fmt.Sprint(i)
		}
		mu.Lock()
		active[key]--
		mu.Unlock()
		return Result{}, nil
	})
	c := New(r, Options{Workers: workers, Clock: newFakeClock(epoch)})
	stop := startController(t, c)
	for round := 0; round < rounds; round++ {
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("ns/k%d", k)
			mu.Lock()
			seq++
			addSeq[key] = seq
			mu.Unlock()
			c.Enqueue(key)
		}
	}
	stop()
	mu.Lock()
	defer mu.Unlock()
	if violations != 0 {
		t.Fatalf("%d reconciles of a key ran concurrently with another of the same key", violations)
	}
	for key, s := range addSeq {
		if startSeq[key] != s {
			t.Errorf("%s: last add %d never reconciled (last seen %d)", key, s, startSeq[key])
		}
	}
	if m := c.Metrics(); m.Reconciles > keys*rounds || m.Reconciles < keys {
		t.Fatalf("Reconciles = %d, want between %d and %d", m.Reconciles, keys, keys*rounds)
	}
}

func TestResync(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := make(chan string, 10)
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		calls <- key
		return Result{}, nil
	})
	c := New(r, Options{Clock: clock})
	c.Resync(func() []string { return []string{"a", "b"} }, 10*time.Minute)
	startController(t, c)
	for i := 1; i <= 2; i++ {
		waitTimer(t, clock, epoch.Add(time.Duration(i)*10*time.Minute))
		clock.Step(10 * time.Minute)
		got := map[string]bool{recv(t, calls, "resync"): true, recv(t, calls, "resync"): true}
		if !got["a"] || !got["b"] {
			t.Fatalf("resync %d reconciled %v, want a and b", i, got)
		}
	}
}

func TestShutdownDrains(t *testing.T) {
	clock := newFakeClock(epoch)
	release := make(chan struct{})
	started := make(chan string, 10)
	var mu sync.Mutex
	var done []string
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		started <- key
		if key == "a" {
			<-release
		}
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("context cancelled during drain: %w", ctx.Err())
		}
		mu.Lock()
		done = append(done, key)
		mu.Unlock()
		return Result{}, nil
	})
	c := New(r, Options{Clock: clock})
	stop := startController(t, c)
	c.Enqueue("a")
	recv(t, started, "a to start")
	c.Enqueue("b")
	c.Enqueue("c")
	c.EnqueueAfter("later", time.Hour)
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	eventually(t, "queue to shut down", func() bool { return c.queue.ShuttingDown() })
	c.Enqueue("after-shutdown")
	close(release)
	recv(t, stopped, "Run to return")
	mu.Lock()
	defer mu.Unlock()
	if fmt.Sprint(done) != "[a b c]" {
		t.Fatalf("reconciled %v, want [a b c]", done)
	}
}

func TestDrainTimeoutCancelsReconciles(t *testing.T) {
	clock := newFakeClock(epoch)
	started := make(chan struct{}, 1)
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		started <- struct{}{}
		<-ctx.Done()
		return Result{}, ctx.Err()
	})
	c := New(r, Options{Clock: clock, DrainTimeout: time.Second})
	stop := startController(t, c)
	c.Enqueue("stuck")
	recv(t, started, "reconcile to start")
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	waitTimer(t, clock, epoch.Add(time.Second))
	clock.Step(time.Second)
	recv(t, stopped, "Run to return after drain timeout")
}

func TestLatencyMetrics(t *testing.T) {
	clock := newFakeClock(epoch)
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		clock.Step(7 * time.Millisecond) // the reconcile "takes" 7 ms
		return Result{}, nil
	})
	c := New(r, Options{Clock: clock})
	startController(t, c)
	c.Enqueue("a")
	c.Enqueue("b")
	eventually(t, "2 reconciles", func() bool { return c.Metrics().Reconciles == 2 })
	m := c.Metrics()
	if m.LatencyMax != 7*time.Millisecond || m.LatencyMean() != 7*time.Millisecond {
		t.Fatalf("LatencyMax=%v mean=%v, want 7ms", m.LatencyMax, m.LatencyMean())
	}
	if m.LatencyHistogram[2] != 2 { // (5ms, 25ms]
		t.Fatalf("histogram %v, want 2 in bucket 2", m.LatencyHistogram)
	}
	if m.Adds != 2 {
		t.Fatalf("Adds = %d, want 2", m.Adds)
	}
}

func TestRunTwiceFails(t *testing.T) {
	c := New(ReconcilerFunc(func(context.Context, string) (Result, error) { return Result{}, nil }), Options{Clock: newFakeClock(epoch)})
	startController(t, c)
	eventually(t, "controller running", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.running })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Run(ctx); err == nil {
		t.Fatalf("second Run succeeded")
	}
}

func TestResyncDisabledByZeroPeriod(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := 0
	c := New(ReconcilerFunc(func(context.Context, string) (Result, error) { return Result{}, nil }), Options{Clock: clock})
	c.Resync(func() []string { calls++; return []string{"a"} }, 0)
	startController(t, c)
	c.Enqueue("b")
	eventually(t, "b reconciled", func() bool { return c.Metrics().Reconciles == 1 })
	if w := clock.Timers(); len(w) != 0 || calls != 0 {
		t.Fatalf("zero-period resync armed timers %v or listed keys %d times", w, calls)
	}
}

func TestDeduplicatesWaitingKeysAndRequeuesKeysAddedDuringReconcile(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := make(chan string, 10)
	release := make(chan struct{})
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		calls <- key
		if key == "a" {
			<-release
		}
		return Result{}, nil
	})
	c := New(r, Options{Clock: clock, Workers: 2})
	for i := 0; i < 5; i++ {
		c.Enqueue("a") // added before Run: waits in the queue, de-duplicated
	}
	if d := c.Metrics().Depth; d != 1 {
		t.Fatalf("Depth = %d after adding a five times, want 1", d)
	}
	startController(t, c)
	recv(t, calls, "a to start")
	c.Enqueue("a") // while a is reconciled: not handed to the second worker
	c.Enqueue("a")
	c.Enqueue("b")
	if k := recv(t, calls, "b"); k != "b" {
		t.Fatalf("second worker got %q while a was being reconciled, want b", k)
	}
	close(release)
	if k := recv(t, calls, "a again"); k != "a" {
		t.Fatalf("reconciled %q, want a again after its reconcile ended", k)
	}
	eventually(t, "3 reconciles", func() bool { return c.Metrics().Reconciles == 3 })
	select {
	case k := <-calls:
		t.Fatalf("extra reconcile of %q", k)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestEnqueueAfterEarliestDeadlineWins(t *testing.T) {
	clock := newFakeClock(epoch)
	calls := make(chan time.Time, 10)
	r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
		calls <- clock.Now()
		return Result{}, nil
	})
	c := New(r, Options{Clock: clock})
	startController(t, c)
	c.EnqueueAfter("a", time.Minute)
	c.EnqueueAfter("a", 10*time.Second)
	c.EnqueueAfter("a", 30*time.Second)
	if w := c.Metrics().Waiting; w != 1 {
		t.Fatalf("Waiting = %d, want 1", w)
	}
	waitTimer(t, clock, epoch.Add(10*time.Second))
	clock.Step(9 * time.Second)
	select {
	case <-calls:
		t.Fatalf("reconciled before the earliest deadline")
	case <-time.After(50 * time.Millisecond):
	}
	clock.Step(time.Second)
	if at := recv(t, calls, "reconcile at the earliest deadline"); !at.Equal(epoch.Add(10 * time.Second)) {
		t.Fatalf("reconciled at %v, want %v", at, epoch.Add(10*time.Second))
	}
	if w := c.Metrics().Waiting; w != 0 {
		t.Fatalf("Waiting = %d after the key fired, want 0", w)
	}
	clock.Step(time.Minute) // the later deadlines were merged into the earliest
	select {
	case at := <-calls:
		t.Fatalf("reconciled again at %v: later deadlines were kept", at)
	case <-time.After(50 * time.Millisecond):
	}
}
