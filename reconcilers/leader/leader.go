// Package leader elects one stromd to run the reconcilers, with a lease in
// a JetStream KV bucket whose TTL expires the key of a leader that died.
//
// Campaign: Create(key) succeeds only if no live lease exists. Renew:
// Update(key, rev) at a third of the TTL; a failed Update means another
// stromd holds the lease, so leadership is lost at once.
package leader

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events"
)

// Config configures an election.
type Config struct {
	JetStream jetstream.JetStream
	Key       string        // e.g. "controllers"
	Identity  string        // who campaigns, e.g. the node name
	TTL       time.Duration // lease lifetime; default 10 s
	Replicas  int
	Logger    *zap.Logger
}

// EnsureBucket creates the lease bucket, idempotently.
func EnsureBucket(ctx context.Context, js jetstream.JetStream, ttl time.Duration, replicas int) (jetstream.KeyValue, error) {
	if ttl == 0 {
		ttl = 10 * time.Second
	}
	if replicas == 0 {
		replicas = 1
	}
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: events.LeaderBucket, Description: "leader leases", TTL: ttl, History: 1,
		Storage: jetstream.FileStorage, Replicas: replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("creating KV bucket %s: %w", events.LeaderBucket, err)
	}
	return kv, nil
}

// Run campaigns until ctx ends. Each time it becomes leader it calls lead
// with a context that is cancelled when leadership is lost; lead must
// return promptly then. Run returns when ctx ends.
func Run(ctx context.Context, cfg Config, lead func(ctx context.Context)) error {
	if cfg.TTL == 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	kv, err := EnsureBucket(ctx, cfg.JetStream, cfg.TTL, cfg.Replicas)
	if err != nil {
		return err
	}
	log := cfg.Logger.With(zap.String("lease", cfg.Key), zap.String("identity", cfg.Identity))
	retry := cfg.TTL / 10
	for ctx.Err() == nil {
		rev, err := kv.Create(ctx, cfg.Key, []byte(cfg.Identity))
		if err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) && ctx.Err() == nil {
				log.Warn("campaigning", zap.Error(err))
			}
			select {
			case <-ctx.Done():
			case <-time.After(retry):
			}
			continue
		}
		log.Info("became leader")
		leadCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			lead(leadCtx)
		}()
		rev = renewLoop(leadCtx, kv, cfg, rev, log)
		cancel()
		<-done
		if ctx.Err() != nil {
			// Step down at once so a standby need not wait for the TTL.
			dctx, dc := context.WithTimeout(context.Background(), 2*time.Second)
			_ = kv.Delete(dctx, cfg.Key, jetstream.LastRevision(rev))
			dc()
		}
	}
	return nil
}

// renewLoop renews the lease until it fails or ctx ends, and returns the
// lease's last revision.
func renewLoop(ctx context.Context, kv jetstream.KeyValue, cfg Config, rev uint64, log *zap.Logger) uint64 {
	t := time.NewTicker(cfg.TTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return rev
		case <-t.C:
			next, err := kv.Update(ctx, cfg.Key, []byte(cfg.Identity), rev)
			if err != nil {
				if ctx.Err() == nil {
					log.Warn("lost leadership", zap.Error(err))
				}
				return rev
			}
			rev = next
		}
	}
}
