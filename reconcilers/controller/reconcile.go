package controller

import (
	"context"
	"errors"
	"time"
)

// Reconciler makes the world match the desired state for one key. It must be
// idempotent: it may be called any number of times for the same key, and is
// called again after errors.
type Reconciler interface {
	Reconcile(ctx context.Context, key string) (Result, error)
}

// ReconcilerFunc adapts a function to Reconciler.
type ReconcilerFunc func(ctx context.Context, key string) (Result, error)

// Reconcile calls f.
func (f ReconcilerFunc) Reconcile(ctx context.Context, key string) (Result, error) {
	return f(ctx, key)
}

// Result tells the controller what to do with a key that reconciled without
// error. The zero Result means "done until something changes".
type Result struct {
	// RequeueAfter > 0 reconciles the key again after this delay (for
	// example to notice that minReadySeconds has passed).
	RequeueAfter time.Duration
}

// terminalError marks an error that retrying cannot fix.
type terminalError struct{ err error }

func (e *terminalError) Error() string { return "terminal error: " + e.err.Error() }
func (e *terminalError) Unwrap() error { return e.err }

// Terminal wraps err so that the controller does not retry the key. Use it
// for errors that only a change of the desired state can fix (an invalid
// spec, for example). Terminal(nil) is nil.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &terminalError{err: err}
}

// IsTerminal reports whether err, or an error it wraps, was made by Terminal.
func IsTerminal(err error) bool {
	var t *terminalError
	return errors.As(err, &t)
}
