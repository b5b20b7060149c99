package probes

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Kind of probe.
type Kind string

// Probe kinds.
const (
	Liveness  Kind = "Liveness"
	Readiness Kind = "Readiness"
	Startup   Kind = "Startup"
)

// InitialResult is what a probe reports before its thresholds are met:
// liveness assumes healthy, readiness not ready, startup not started.
func InitialResult(k Kind) Result {
	switch k {
	case Liveness:
		return Success
	case Readiness:
		return Failure
	}
	return Unknown
}

// Worker runs one probe of one container periodically.
type Worker struct {
	kind     Kind
	probe    corev1.Probe
	target   Target
	onChange func(Kind, Result, string)

	mu      sync.Mutex
	tracker *Tracker
	message string // last failure message
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewWorker prepares a worker; onChange is called (from the worker's
// goroutine) whenever the thresholded result changes, with the last failure
// message.
func NewWorker(kind Kind, probe corev1.Probe, target Target, onChange func(Kind, Result, string)) *Worker {
	st := int(probe.SuccessThreshold)
	if kind != Readiness {
		st = 1 // liveness and startup must have successThreshold 1
	}
	ft := int(probe.FailureThreshold)
	if ft == 0 {
		ft = 3
	}
	return &Worker{
		kind: kind, probe: probe, target: target, onChange: onChange,
		tracker: NewTracker(InitialResult(kind), st, ft),
	}
}

// Start runs the worker until Stop or ctx ends.
func (w *Worker) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	w.mu.Lock()
	w.cancel = cancel
	w.done = make(chan struct{})
	w.mu.Unlock()
	go w.loop(ctx)
}

// Stop ends the worker and waits for its goroutine.
func (w *Worker) Stop() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	<-done
}

// Result returns the thresholded result and the last failure message.
func (w *Worker) Result() (Result, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.tracker.Result(), w.message
}

func (w *Worker) loop(ctx context.Context) {
	defer close(w.done)
	period := time.Duration(w.probe.PeriodSeconds) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	timeout := time.Duration(w.probe.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	delay := time.Duration(w.probe.InitialDelaySeconds) * time.Second
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		r, msg := Check(ctx, w.probe.ProbeHandler, w.target, timeout)
		if ctx.Err() != nil {
			return
		}
		w.mu.Lock()
		if r == Failure {
			w.message = msg
		}
		changed := w.tracker.Observe(r)
		res, m := w.tracker.Result(), w.message
		w.mu.Unlock()
		if changed && w.onChange != nil {
			w.onChange(w.kind, res, m)
		}
		timer.Reset(period)
	}
}
