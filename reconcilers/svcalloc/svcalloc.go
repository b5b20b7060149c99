// Package svcalloc is the level-based repair of ClusterIP and NodePort
// claims (see events/alloc). Allocation is a rule of the write path: every
// Service write claims, a failed or retried write undoes its claims, and
// every Service removal — by a user, a controller, the garbage collector
// or the namespace controller — releases them when its Deleted event is
// appended. The one failure mode left is a crash (or a lost connection)
// between a claim and its append, or between an append and the release
// that follows it: a claim no Service holds. In normal operation there is
// none and this reconciler releases nothing. Each run compares every
// claim with the Services in the view; a claim younger than Grace is
// kept, so a write that has claimed but not yet reached the view is
// never robbed. The claims are a KV input (manager.KVInputs): the
// manager watches the bucket, and Reconcile reads the watch's copy; it
// touches the bucket only to release, with the claim's revision as
// precondition, so a claim renewed meanwhile stays.
package svcalloc

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/alloc"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Key is the reconciler's only key: every run checks every claim.
const Key = "claims"

// Options tune the reconciler.
type Options struct {
	Grace  time.Duration // default 30 s
	Period time.Duration // default 1 min
}

// Reconciler releases claims no Service holds.
type Reconciler struct {
	env    manager.Env
	opts   Options
	claims *manager.KV // the allocation bucket, watched by the manager
	kv     jetstream.KeyValue
}

// New returns the reconciler.
func New(env manager.Env, o Options) *Reconciler {
	if o.Grace == 0 {
		o.Grace = 30 * time.Second
	}
	if o.Period == 0 {
		o.Period = time.Minute
	}
	// A new claim is younger than Grace, and a released one needs no
	// work: claim changes enqueue nothing; Period and Service changes
	// drive the runs.
	return &Reconciler{env: env, opts: o, claims: manager.NewKV(events.AllocBucket, nil)}
}

// KVInputs implements manager.KVInputs: the manager watches the claims.
func (r *Reconciler) KVInputs() []*manager.KV { return []*manager.KV{r.claims} }

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "svcalloc" }

// Workers is 1: one key.
func (r *Reconciler) Workers() int { return 1 }

// Watches implements manager.Reconciler: any Service change.
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{{Resource: "services", Keys: func(*events.Event) []string { return []string{Key} }}}
}

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return []string{Key} }

// ClaimEntry is one claim as read from the bucket.
type ClaimEntry struct {
	Key      string
	Revision uint64
	Claim    alloc.Claim
}

// Stale returns the claims to release: older than grace and not held by
// the Service they name. held maps "ns/name" to the claim keys it holds.
func Stale(claims []ClaimEntry, held map[string]map[string]bool, now time.Time, grace time.Duration) []ClaimEntry {
	var out []ClaimEntry
	for _, c := range claims {
		if now.Sub(c.Claim.Time) < grace {
			continue
		}
		if held[events.ObjectKey(c.Claim.Namespace, c.Claim.Name)][c.Key] {
			continue
		}
		out = append(out, c)
	}
	return out
}

// Reconcile releases stale claims and comes back after Period.
func (r *Reconciler) Reconcile(ctx context.Context, _ string) (controller.Result, error) {
	select {
	case <-r.claims.Synced():
	default:
		return controller.Result{}, fmt.Errorf("the claims input has not delivered bucket %s yet", r.claims.Bucket())
	}
	claims := r.decode()
	held := map[string]map[string]bool{}
	for _, c := range claims {
		k := events.ObjectKey(c.Claim.Namespace, c.Claim.Name)
		if _, done := held[k]; done {
			continue
		}
		held[k] = map[string]bool{}
		e, ok := r.env.Store.Get("services", c.Claim.Namespace, c.Claim.Name)
		if !ok {
			continue
		}
		obj, err := e.Object()
		if err != nil {
			continue
		}
		for _, key := range alloc.ServiceClaims(obj.(*corev1.Service)) {
			held[k][key] = true
		}
	}
	for _, c := range Stale(claims, held, r.env.Clock.Now(), r.opts.Grace) {
		if r.kv == nil {
			kv, err := r.env.Writer.JetStream().KeyValue(ctx, events.AllocBucket)
			if err != nil {
				return controller.Result{}, fmt.Errorf("opening %s: %w", events.AllocBucket, err)
			}
			r.kv = kv
		}
		err := r.kv.Delete(ctx, c.Key, jetstream.LastRevision(c.Revision))
		if err != nil {
			r.env.Logger.Warn("releasing stale claim", zap.String("key", c.Key), zap.Error(err))
			continue
		}
		r.env.Logger.Info("released stale claim", zap.String("key", c.Key), zap.String("owner", events.ObjectKey(c.Claim.Namespace, c.Claim.Name)))
	}
	return controller.Result{RequeueAfter: r.opts.Period}, nil
}

// decode reads the claims from the watch's copy of the bucket.
func (r *Reconciler) decode() []ClaimEntry {
	entries := r.claims.Entries()
	out := make([]ClaimEntry, 0, len(entries))
	for _, e := range entries {
		var c alloc.Claim
		if err := json.Unmarshal(e.Value, &c); err != nil {
			r.env.Logger.Warn("unreadable claim", zap.String("key", e.Key), zap.Error(err))
			continue
		}
		out = append(out, ClaimEntry{Key: e.Key, Revision: e.Revision, Claim: c})
	}
	return out
}
