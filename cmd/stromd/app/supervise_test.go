package app

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// A failing agent is logged once per failure with its cause and run
// again; each run's context ends when the run returns; supervision ends
// with ctx.
func TestSuperviseAgentRestartsAfterFailures(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var runCtxs []context.Context
	run := func(rctx context.Context, _ AgentEnv) error {
		mu.Lock()
		runCtxs = append(runCtxs, rctx)
		n := len(runCtxs)
		mu.Unlock()
		if n <= 2 {
			return errors.New("connecting to containerd: no such file")
		}
		<-rctx.Done()
		return rctx.Err()
	}
	done := make(chan error, 1)
	go func() {
		done <- superviseAgent(ctx, run, AgentEnv{Logger: zap.New(core)}, time.Millisecond, 4*time.Millisecond)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(runCtxs)
		mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs, want 3", n)
		}
		time.Sleep(time.Millisecond)
	}
	for i, c := range runCtxs[:2] {
		if c.Err() == nil {
			t.Errorf("run %d's context still live after it returned", i)
		}
	}
	if runCtxs[2].Err() != nil {
		t.Error("the running run's context is cancelled")
	}
	failed := logs.FilterMessage("node agent failed; restarting").All()
	if len(failed) != 2 || failed[0].ContextMap()["error"] != "connecting to containerd: no such file" {
		t.Fatalf("logged %v, want the 2 failures with their cause", failed)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("supervision ended with %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("supervision did not end with its context")
	}
}
