package app

import (
	"context"
	"math"
	"time"

	"go.uber.org/zap"
	"k8s.io/apimachinery/pkg/util/wait"
)

// The in-process agent's restart back-off: doubling from agentRetryMin to
// agentRetryMax, back to the minimum after a run that lasted longer than
// the maximum.
const (
	agentRetryMin = time.Second
	agentRetryMax = 30 * time.Second
)

// superviseAgent runs the in-process node agent until ctx ends. A run that
// fails is logged once with its cause and started again after a back-off,
// each run with a context of its own that is cancelled when it returns, so
// what it started (service proxy, DNS, feeds) stops before the next run
// starts. It returns nil when ctx ends.
func superviseAgent(ctx context.Context, run AgentFunc, env AgentEnv, minWait, maxWait time.Duration) error {
	log := env.Logger
	if log == nil {
		log = zap.NewNop()
	}
	newBackoff := func() wait.Backoff {
		return wait.Backoff{Duration: minWait, Factor: 2, Cap: maxWait, Steps: math.MaxInt32}
	}
	backoff := newBackoff()
	for {
		started := time.Now()
		rctx, cancel := context.WithCancel(ctx)
		err := run(rctx, env)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		if time.Since(started) > maxWait {
			backoff = newBackoff()
		}
		after := backoff.Step()
		if err == nil {
			log.Warn("node agent stopped without an error; restarting", zap.Duration("after", after))
		} else {
			log.Error("node agent failed; restarting", zap.Duration("after", after), zap.Error(err))
		}
		t := time.NewTimer(after)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
