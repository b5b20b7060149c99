package controller

import (
	"sync"
	"time"
)

// LatencyBuckets are the upper bounds of the reconcile latency histogram;
// the last bucket of Metrics.LatencyHistogram counts everything slower.
var LatencyBuckets = []time.Duration{
	time.Millisecond, 5 * time.Millisecond, 25 * time.Millisecond,
	100 * time.Millisecond, 500 * time.Millisecond, 2500 * time.Millisecond,
	10 * time.Second,
}

// Metrics is a point-in-time copy of a controller's counters.
type Metrics struct {
	Depth          int    // keys ready to be reconciled
	Waiting        int    // keys waiting for a delayed add or retry
	Adds           uint64 // adds handed to the queue before shutdown: Enqueue, EnqueueAfter, resyncs, requeues and retries (de-duplicated ones too)
	Retries        uint64 // rate-limited requeues after an error
	Reconciles     uint64 // Reconcile calls finished
	Errors         uint64 // Reconcile calls that returned a retryable error
	TerminalErrors uint64 // Reconcile calls that returned a Terminal error
	Panics         uint64 // Reconcile calls that panicked (counted in Errors too)
	Requeues       uint64 // results with RequeueAfter > 0
	InFlight       int    // Reconcile calls running now

	LatencyTotal     time.Duration // sum of Reconcile durations
	LatencyMax       time.Duration
	LatencyHistogram []uint64 // counts per LatencyBuckets, plus one overflow bucket
}

// LatencyMean returns the mean Reconcile duration, 0 if none.
func (m Metrics) LatencyMean() time.Duration {
	if m.Reconciles == 0 {
		return 0
	}
	return m.LatencyTotal / time.Duration(m.Reconciles)
}

// counters is the mutable part of Metrics kept by a Controller.
type counters struct {
	mu sync.Mutex
	m  Metrics
}

func (c *counters) observe(d time.Duration, err error, terminal, panicked bool, requeue bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m.Reconciles++
	c.m.LatencyTotal += d
	if d > c.m.LatencyMax {
		c.m.LatencyMax = d
	}
	if c.m.LatencyHistogram == nil {
		c.m.LatencyHistogram = make([]uint64, len(LatencyBuckets)+1)
	}
	i := 0
	for i < len(LatencyBuckets) && d > LatencyBuckets[i] {
		i++
	}
	c.m.LatencyHistogram[i]++
	switch {
	case terminal:
		c.m.TerminalErrors++
	case err != nil:
		c.m.Errors++
	}
	if panicked {
		c.m.Panics++
	}
	if requeue {
		c.m.Requeues++
	}
}

func (c *counters) inFlight(delta int) {
	c.mu.Lock()
	c.m.InFlight += delta
	c.mu.Unlock()
}

func (c *counters) snapshot() Metrics {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.m
	m.LatencyHistogram = append([]uint64(nil), c.m.LatencyHistogram...)
	if m.LatencyHistogram == nil {
		m.LatencyHistogram = make([]uint64, len(LatencyBuckets)+1)
	}
	return m
}
