// Package clocktest has a settable clock for tests. It imports nothing of
// Strom's, so every package's own tests can use it (test/logtest, which
// starts whole control planes, cannot be imported by the packages it
// depends on).
package clocktest

import (
	"sync"
	"time"
)

// FakeClock is a settable clock, safe for concurrent use.
type FakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// New returns a clock stopped at t.
func New(t time.Time) *FakeClock { return &FakeClock{t: t} }

// Now returns the set time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
