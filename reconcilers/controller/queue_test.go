package controller

import (
	"testing"
	"time"
)

func TestQueueDeduplicates(t *testing.T) {
	q := NewQueue[string](NewFakeClock(epoch), nil)
	defer q.ShutDown()
	for i := 0; i < 5; i++ {
		q.Add("a")
	}
	q.Add("b")
	if got := q.Len(); got != 2 {
		t.Fatalf("Len = %d, want 2", got)
	}
	k, _ := q.Get()
	if k != "a" {
		t.Fatalf("first key = %q, want a", k)
	}
	q.Done(k)
	k, _ = q.Get()
	if k != "b" {
		t.Fatalf("second key = %q, want b", k)
	}
	q.Done(k)
	if got := q.Len(); got != 0 {
		t.Fatalf("Len after draining = %d, want 0", got)
	}
}

func TestQueueReAddWhileProcessing(t *testing.T) {
	q := NewQueue[string](NewFakeClock(epoch), nil)
	defer q.ShutDown()
	q.Add("a")
	k, _ := q.Get()
	q.Add("a")
	q.Add("a")
	if got := q.Len(); got != 0 {
		t.Fatalf("key handed out twice concurrently: Len = %d while processing", got)
	}
	q.Done(k)
	if got := q.Len(); got != 1 {
		t.Fatalf("Len after Done = %d, want 1 (re-added while processing)", got)
	}
	k2, _ := q.Get()
	q.Done(k2)
	if q.Len() != 0 {
		t.Fatalf("key processed more than twice")
	}
}

func TestQueueAddAfterEarliestWins(t *testing.T) {
	c := NewFakeClock(epoch)
	q := NewQueue[string](c, nil)
	defer q.ShutDown()
	q.AddAfter("a", time.Minute)
	q.AddAfter("a", 10*time.Second)
	q.AddAfter("a", 30*time.Second)
	if q.Waiting() != 1 {
		t.Fatalf("Waiting = %d, want 1", q.Waiting())
	}
	waitTimer(t, c, epoch.Add(10*time.Second))
	c.Step(9 * time.Second)
	if q.Len() != 0 {
		t.Fatalf("key ready before its deadline")
	}
	c.Step(time.Second)
	eventually(t, "delayed key to become ready", func() bool { return q.Len() == 1 })
	if q.Waiting() != 0 {
		t.Fatalf("Waiting = %d after firing, want 0", q.Waiting())
	}
}

func TestQueueShutDownHandsOutQueuedKeys(t *testing.T) {
	c := NewFakeClock(epoch)
	q := NewQueue[string](c, nil)
	q.Add("a")
	q.AddAfter("later", time.Second)
	q.ShutDown()
	q.Add("b")
	k, shut := q.Get()
	if shut || k != "a" {
		t.Fatalf("Get = %q, %v; want a, false", k, shut)
	}
	q.Done(k)
	if _, shut := q.Get(); !shut {
		t.Fatalf("Get after drain did not report shutdown")
	}
	if q.Waiting() != 0 {
		t.Fatalf("delayed adds kept after shutdown")
	}
}

func TestQueueGetBlocksUntilAdd(t *testing.T) {
	q := NewQueue[int](NewFakeClock(epoch), nil)
	defer q.ShutDown()
	got := make(chan int, 1)
	go func() {
		k, _ := q.Get()
		got <- k
	}()
	q.Add(7)
	if k := recv(t, got, "Get"); k != 7 {
		t.Fatalf("Get = %d, want 7", k)
	}
}
