package events

import "time"

// Clock tells the time. Core logic takes one instead of calling time.Now,
// so tests and replays control time.
type Clock interface{ Now() time.Time }

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }
