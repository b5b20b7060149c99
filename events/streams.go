package events

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
)

// Bucket names. The KV and object store buckets hold derived or transient
// data only: everything in them can be rebuilt from the event log.
const (
	// SnapshotBucket is the object store of projection snapshots.
	SnapshotBucket = "STROM_SNAPSHOTS"
	// LeaseBucket is the KV bucket of node heartbeats (keys LeaseKey);
	// heartbeats are not desired state and never grow the event log.
	LeaseBucket = "STROM_LEASES"
	// LeaderBucket is the KV bucket of the reconcilers' leader lease
	// (reconcilers/leader creates it, with its own TTL).
	LeaderBucket = "STROM_LEADER"
	// AllocBucket is the KV bucket of ClusterIP and NodePort claims (see
	// events/alloc); the Services in the log say which claims are held.
	AllocBucket = "STROM_ALLOC"
)

// leaseKeyPrefix starts every node heartbeat key in LeaseBucket.
const leaseKeyPrefix = "node."

// LeaseKey is a node's heartbeat key in LeaseBucket.
func LeaseKey(node string) string { return leaseKeyPrefix + EncodeToken(node) }

// LeaseNode is the node whose heartbeat key is key; ok is false for keys
// LeaseKey does not make.
func LeaseNode(key string) (node string, ok bool) {
	tok, ok := strings.CutPrefix(key, leaseKeyPrefix)
	if !ok {
		return "", false
	}
	node, err := DecodeToken(tok)
	return node, err == nil && LeaseKey(node) == key
}

// Heartbeat is the value of a node's lease: agents write it, the node
// lifecycle controller reads when it was renewed.
type Heartbeat struct {
	Time    time.Time `json:"time"`
	Version string    `json:"version"`
}

// StreamOptions tune the event stream.
type StreamOptions struct {
	Replicas int           // 1 for a single server, 3 for a cluster
	MaxAge   time.Duration // 0: keep forever
	MaxBytes int64         // 0: no limit
	LeaseTTL time.Duration // lease bucket TTL; default 40 s
	// ClusterID is the cluster the caller's data dir belongs to; "" when
	// it belongs to none yet (see EnsureStreams).
	ClusterID string
}

// ClusterIDKey is the event stream's metadata key naming the cluster the
// log belongs to.
const ClusterIDKey = "strom.cluster-id"

// EventStreamConfig is the event log's configuration.
func EventStreamConfig(o StreamOptions) jetstream.StreamConfig {
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	maxBytes := o.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	return jetstream.StreamConfig{
		Name:        StreamName,
		Description: "Strom desired-state event log: one subject per object",
		Subjects:    []string{AllSubjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      o.MaxAge,
		MaxBytes:    maxBytes,
		MaxMsgSize:  2 << 20, // 1 MiB objects plus envelope headroom
		Duplicates:  2 * time.Minute,
		Replicas:    o.Replicas,
		AllowDirect: true,
		DenyDelete:  true, // history is immutable: no message is ever removed by hand
	}
}

// EnsureStreams creates or updates the event stream and the buckets,
// idempotently, so every start converges the configuration, and returns
// the cluster the log belongs to. A new log (or one written before logs
// named their cluster) gets o.ClusterID, or a new ID when that is empty;
// an existing log keeps its own, and a caller whose data dir belongs to
// another cluster is refused (Forbidden) before anything is changed.
func EnsureStreams(ctx context.Context, js jetstream.JetStream, o StreamOptions) (clusterID string, err error) {
	cfg := EventStreamConfig(o)
	cfg.Metadata = map[string]string{}
	clusterID = o.ClusterID
	cur, err := js.Stream(ctx, StreamName)
	switch {
	case err == nil:
		for k, v := range cur.CachedInfo().Config.Metadata {
			if !strings.HasPrefix(k, "_nats.") { // the server's own keys
				cfg.Metadata[k] = v
			}
		}
		if logID := cfg.Metadata[ClusterIDKey]; logID != "" {
			if o.ClusterID != "" && o.ClusterID != logID {
				return "", Errorf(ReasonForbidden, "this data dir belongs to cluster %s, but the event log on this NATS server belongs to cluster %s: start with that cluster's data dir, or point --nats-url at this cluster's NATS", o.ClusterID, logID)
			}
			clusterID = logID
		}
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return "", fmt.Errorf("opening stream %s: %w", StreamName, err)
	}
	if clusterID == "" {
		clusterID = nuid.Next()
	}
	cfg.Metadata[ClusterIDKey] = clusterID
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return "", fmt.Errorf("creating stream %s: %w", StreamName, err)
	}
	replicas := o.Replicas
	if replicas == 0 {
		replicas = 1
	}
	if _, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
		Bucket: SnapshotBucket, Description: "projection snapshots (derived from the event log)",
		Storage: jetstream.FileStorage, Replicas: replicas,
	}); err != nil {
		return "", fmt.Errorf("creating object store %s: %w", SnapshotBucket, err)
	}
	ttl := o.LeaseTTL
	if ttl == 0 {
		ttl = 40 * time.Second
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: LeaseBucket, Description: "node heartbeats",
		TTL: ttl, Storage: jetstream.FileStorage, Replicas: replicas, History: 1,
	}); err != nil {
		return "", fmt.Errorf("creating KV bucket %s: %w", LeaseBucket, err)
	}
	return clusterID, nil
}

// LastSeq is the stream's last sequence: what a consistent read must have
// applied to include every acknowledged write.
func LastSeq(ctx context.Context, js jetstream.JetStream) (uint64, error) {
	st, err := js.Stream(ctx, StreamName)
	if err != nil {
		return 0, fmt.Errorf("opening stream %s: %w", StreamName, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream %s info: %w", StreamName, err)
	}
	return info.State.LastSeq, nil
}

// IsNotFound reports a JetStream "not found" for streams, buckets or messages.
func isJSNotFound(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrMsgNotFound) ||
		errors.Is(err, jetstream.ErrObjectNotFound) || errors.Is(err, jetstream.ErrKeyNotFound)
}
