package leader_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/reconcilers/leader"
	"github.com/strom-project/strom/test/logtest"
)

type contender struct {
	mu      sync.Mutex
	leading bool
	times   int
}

func (c *contender) lead(ctx context.Context) {
	c.mu.Lock()
	c.leading, c.times = true, c.times+1
	c.mu.Unlock()
	<-ctx.Done()
	c.mu.Lock()
	c.leading = false
	c.mu.Unlock()
}

func (c *contender) isLeading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leading
}

// A standby takes over within 15 s when the leader dies without stepping
// down (its connection is gone, so its lease simply stops being renewed).
func TestStandbyTakesOverWithin15s(t *testing.T) {
	s := logtest.StartNATS(t)
	nc1, js1 := logtest.Connect(t, s)
	_, js2 := logtest.Connect(t, s)
	var a, b contender
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	go leader.Run(ctxA, leader.Config{JetStream: js1, Key: "controllers", Identity: "a"}, a.lead)
	logtest.Eventually(t, 5*time.Second, func() error {
		if !a.isLeading() {
			return errNotLeading
		}
		return nil
	})
	go leader.Run(ctxB, leader.Config{JetStream: js2, Key: "controllers", Identity: "b"}, b.lead)
	time.Sleep(500 * time.Millisecond)
	if b.isLeading() {
		t.Fatalf("two leaders at once")
	}
	// a "crashes": its connection dies, nothing is renewed or deleted.
	died := time.Now()
	nc1.Close()
	logtest.Eventually(t, 15*time.Second, func() error {
		if !b.isLeading() {
			return errNotLeading
		}
		return nil
	})
	t.Logf("takeover after %s", time.Since(died).Round(100*time.Millisecond))
}

// A leader that stops (SIGTERM) hands over at once.
func TestStepDownHandsOverQuickly(t *testing.T) {
	s := logtest.StartNATS(t)
	_, js1 := logtest.Connect(t, s)
	_, js2 := logtest.Connect(t, s)
	var a, b contender
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	defer cancelB()
	doneA := make(chan struct{})
	go func() {
		leader.Run(ctxA, leader.Config{JetStream: js1, Key: "k", Identity: "a", TTL: 30 * time.Second}, a.lead)
		close(doneA)
	}()
	logtest.Eventually(t, 5*time.Second, func() error {
		if !a.isLeading() {
			return errNotLeading
		}
		return nil
	})
	go leader.Run(ctxB, leader.Config{JetStream: js2, Key: "k", Identity: "b", TTL: 30 * time.Second}, b.lead)
	cancelA()
	<-doneA
	// With a 30 s TTL, only the step-down lets b lead within 10 s.
	logtest.Eventually(t, 10*time.Second, func() error {
		if !b.isLeading() {
			return errNotLeading
		}
		return nil
	})
	kv, err := js2.KeyValue(context.Background(), events.LeaderBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(context.Background(), "k")
	if err != nil || string(e.Value()) != "b" {
		t.Fatalf("lease holder %v %v, want b", e, err)
	}
}

type leaderErr string

func (e leaderErr) Error() string { return string(e) }

const errNotLeading = leaderErr("not leading yet")
