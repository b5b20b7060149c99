package controller

import (
	"sync"
	"time"
)

// RateLimiter decides how long a failed key waits before its next try.
type RateLimiter[K comparable] interface {
	// When returns the delay before item's next try and counts a failure.
	When(item K) time.Duration
	// Forget clears item's failure history (called on success).
	Forget(item K)
	// NumRequeues returns how many failures item has had since its last
	// Forget.
	NumRequeues(item K) int
}

// ExponentialLimiter delays a key Base·2^failures, capped at Max.
type ExponentialLimiter[K comparable] struct {
	Base, Max time.Duration

	mu       sync.Mutex
	failures map[K]int
}

// NewExponentialLimiter returns a per-key exponential limiter.
func NewExponentialLimiter[K comparable](base, max time.Duration) *ExponentialLimiter[K] {
	return &ExponentialLimiter[K]{Base: base, Max: max, failures: map[K]int{}}
}

// When returns Base·2^n for the key's n-th failure (counting from 0),
// capped at Max.
func (l *ExponentialLimiter[K]) When(item K) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.failures[item]
	l.failures[item] = n + 1
	if n >= 62 {
		return l.Max
	}
	d := float64(l.Base) * float64(uint64(1)<<uint(n))
	if d > float64(l.Max) {
		return l.Max
	}
	return time.Duration(d)
}

// Forget resets item's failures.
func (l *ExponentialLimiter[K]) Forget(item K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, item)
}

// NumRequeues returns item's failures since the last Forget.
func (l *ExponentialLimiter[K]) NumRequeues(item K) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures[item]
}

// BucketLimiter is a token bucket shared by all keys: QPS tokens are added
// per second up to Burst, each retry takes one, and a retry without a token
// waits for the next one. It never forgets: it limits the overall retry rate.
type BucketLimiter[K comparable] struct {
	clock Clock
	qps   float64
	burst float64

	mu     sync.Mutex
	tokens float64 // may go negative: reserved future tokens
	last   time.Time
}

// NewBucketLimiter returns a token bucket of the given rate and burst, full.
func NewBucketLimiter[K comparable](clock Clock, qps float64, burst int) *BucketLimiter[K] {
	return &BucketLimiter[K]{clock: clock, qps: qps, burst: float64(burst), tokens: float64(burst), last: clock.Now()}
}

// When reserves a token and returns how long until it is available.
func (b *BucketLimiter[K]) When(K) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens += elapsed.Seconds() * b.qps
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.qps * float64(time.Second))
}

// Forget does nothing: the bucket is global.
func (b *BucketLimiter[K]) Forget(K) {}

// NumRequeues is always 0: the bucket keeps no per-key state.
func (b *BucketLimiter[K]) NumRequeues(K) int { return 0 }

// MaxOf combines limiters: the delay is the longest any of them asks for.
type MaxOf[K comparable] []RateLimiter[K]

// When asks every limiter and returns the longest delay.
func (m MaxOf[K]) When(item K) time.Duration {
	var d time.Duration
	for _, l := range m {
		if w := l.When(item); w > d {
			d = w
		}
	}
	return d
}

// Forget forgets item in every limiter.
func (m MaxOf[K]) Forget(item K) {
	for _, l := range m {
		l.Forget(item)
	}
}

// NumRequeues returns the highest count any limiter keeps.
func (m MaxOf[K]) NumRequeues(item K) int {
	n := 0
	for _, l := range m {
		if c := l.NumRequeues(item); c > n {
			n = c
		}
	}
	return n
}

// DefaultRateLimiter is client-go's default controller limiter: per key
// 5 ms doubling to 1000 s, and overall 10 retries per second with a burst
// of 100.
func DefaultRateLimiter[K comparable](clock Clock) RateLimiter[K] {
	return MaxOf[K]{
		NewExponentialLimiter[K](5*time.Millisecond, 1000*time.Second),
		NewBucketLimiter[K](clock, 10, 100),
	}
}
