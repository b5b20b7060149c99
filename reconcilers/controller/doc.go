// Package controller is the one reconcile contract every Strom reconciler
// implements, and the machinery that drives it: client-go's rate-limiting
// work queue (k8s.io/client-go/util/workqueue: de-duplication, per-key
// exponential retries under a global token bucket, delayed adds), periodic
// resync, N workers and a draining shutdown.
//
// Reconciliation is level-based: a Reconciler is handed only a key (for
// example "ns/name"), reads the current state for it from a projection and
// writes what it decides through the write path. It is not told what
// happened. Retries live here, in one place:
//
//   - an error requeues the key with a per-key exponential delay
//     (5 ms doubling up to 1000 s, reset on success) limited by a global
//     token bucket (10 per second, burst 100): client-go's
//     DefaultTypedControllerRateLimiter (its bucket runs on the wall
//     clock, not the injected one);
//   - an error wrapped with Terminal is logged and counted, never retried;
//   - Result.RequeueAfter > 0 reconciles the key again after that delay.
//
// The queue guarantees that one key is never reconciled by two workers at
// once, and that a key added many times while it waits is reconciled once;
// a key added while it is being reconciled is reconciled again afterwards.
//
// Time comes from an injected k8s.io/utils/clock.WithTicker, which the
// queue shares; tests step a fake clock (k8s.io/utils/clock/testing)
// instead of sleeping.
package controller
