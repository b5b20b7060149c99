package controller

import (
	"testing"
	"time"
)

func TestExponentialLimiter(t *testing.T) {
	l := NewExponentialLimiter[string](5*time.Millisecond, 1000*time.Second)
	want := []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	for i, w := range want {
		if got := l.When("a"); got != w {
			t.Fatalf("failure %d: When = %v, want %v", i, got, w)
		}
	}
	if got := l.When("b"); got != 5*time.Millisecond {
		t.Fatalf("other key shares history: %v", got)
	}
	if l.NumRequeues("a") != 4 {
		t.Fatalf("NumRequeues = %d, want 4", l.NumRequeues("a"))
	}
	for i := 0; i < 100; i++ {
		l.When("a")
	}
	if got := l.When("a"); got != 1000*time.Second {
		t.Fatalf("cap: When = %v, want 1000s", got)
	}
	l.Forget("a")
	if got := l.When("a"); got != 5*time.Millisecond {
		t.Fatalf("after Forget: When = %v, want 5ms", got)
	}
}

func TestBucketLimiter(t *testing.T) {
	c := NewFakeClock(epoch)
	b := NewBucketLimiter[string](c, 10, 2)
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond}
	for i, w := range want {
		if got := b.When("x"); got != w {
			t.Fatalf("take %d: When = %v, want %v", i, got, w)
		}
	}
	c.Step(time.Second) // 10 tokens arrive, 2 were reserved, bucket caps at 2
	for i := 0; i < 2; i++ {
		if got := b.When("x"); got != 0 {
			t.Fatalf("after refill take %d: When = %v, want 0", i, got)
		}
	}
	if got := b.When("x"); got != 100*time.Millisecond {
		t.Fatalf("after refill, third take: When = %v, want 100ms", got)
	}
}

func TestMaxOf(t *testing.T) {
	c := NewFakeClock(epoch)
	l := MaxOf[string]{NewExponentialLimiter[string](time.Second, time.Hour), NewBucketLimiter[string](c, 1, 1)}
	if got := l.When("a"); got != time.Second {
		t.Fatalf("When = %v, want 1s (exponential)", got)
	}
	if got := l.When("b"); got != time.Second {
		t.Fatalf("When = %v, want 1s", got)
	}
	if got := l.When("c"); got != 2*time.Second {
		t.Fatalf("When = %v, want 2s (bucket)", got)
	}
	if l.NumRequeues("a") != 1 {
		t.Fatalf("NumRequeues = %d", l.NumRequeues("a"))
	}
}
