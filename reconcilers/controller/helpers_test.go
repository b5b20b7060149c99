package controller

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
)

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeClock is k8s' FakeClock plus the one thing these tests need that it
// lacks: the deadlines of the pending timers. k8s' FakeClock only tells
// whether anything waits (HasWaiters, Waiters() int), and client-go's
// delaying queue always has its 10 s heartbeat ticker waiting, so a test
// could not tell that a retry or requeue timer is armed before it steps
// time. Stepping too early is not just slower: the queue would arm its
// timer relative to the stepped time and miss the deadline. fakeClock
// records every timer (After is a timer too) with its deadline; tickers are
// not recorded.
type fakeClock struct {
	*clocktesting.FakeClock

	mu      sync.Mutex
	timers  []*recordedTimer
	changed chan struct{} // closed and replaced when a timer is armed
}

func newFakeClock(t time.Time) *fakeClock {
	return &fakeClock{FakeClock: clocktesting.NewFakeClock(t), changed: make(chan struct{})}
}

// recordedTimer is a timer of the fake clock with its deadline.
type recordedTimer struct {
	clock.Timer
	c *fakeClock

	at      time.Time // guarded by c.mu
	stopped bool      // guarded by c.mu
}

// NewTimer arms a fake timer and records its deadline.
func (c *fakeClock) NewTimer(d time.Duration) clock.Timer {
	at := c.Now().Add(d)
	t := &recordedTimer{Timer: c.FakeClock.NewTimer(d), c: c, at: at}
	c.mu.Lock()
	c.timers = append(c.timers, t)
	c.armedLocked()
	c.mu.Unlock()
	return t
}

// After is a recorded timer's channel.
func (c *fakeClock) After(d time.Duration) <-chan time.Time { return c.NewTimer(d).C() }

func (c *fakeClock) armedLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// Stop stops the timer and drops it from the pending deadlines.
func (t *recordedTimer) Stop() bool {
	t.c.mu.Lock()
	t.stopped = true
	t.c.mu.Unlock()
	return t.Timer.Stop()
}

// Reset re-arms the timer d from now.
func (t *recordedTimer) Reset(d time.Duration) bool {
	at := t.c.Now().Add(d)
	ok := t.Timer.Reset(d)
	t.c.mu.Lock()
	t.at, t.stopped = at, false
	t.c.armedLocked()
	t.c.mu.Unlock()
	return ok
}

// Timers returns the deadlines of the timers that are armed and not yet due.
func (c *fakeClock) Timers() []time.Time {
	now := c.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.stopped || !t.at.After(now) {
			continue // stopped or fired: forget it
		}
		kept = append(kept, t)
		out = append(out, t.at)
	}
	c.timers = kept
	return out
}

// waitTimer waits until the fake clock has an armed timer due exactly at.
func waitTimer(t *testing.T, c *fakeClock, at time.Time) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		pending := c.Timers()
		for _, p := range pending {
			if p.Equal(at) {
				return
			}
		}
		select {
		case <-changed:
		case <-ctx.Done():
			t.Fatal(fmt.Errorf("waiting for a timer at %s (pending %v): %w", at, pending, ctx.Err()))
		}
	}
}

// eventually polls cond until it holds or 10 s of real time pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// recv receives from ch or fails after 10 s of real time.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}
