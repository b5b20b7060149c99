package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/apiserver"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// startReplay serves a read-only control plane from an export file
// (`stromd --replay FILE`): the embedded NATS with the usual users, so
// admin.conf and the CLI work unchanged, and an API that answers reads,
// history and the time-travel verbs from the file and refuses writes. No
// event stream, projection, reconciler or agent runs.
func startReplay(ctx context.Context, cfg Config) (_ *Stromd, err error) {
	if cfg.NATSURL != "" {
		return nil, fmt.Errorf("--replay serves from the embedded NATS; drop --nats-url")
	}
	var sealer *events.Sealer
	if cfg.ReplayKey != "" {
		key, err := os.ReadFile(cfg.ReplayKey)
		if err != nil {
			return nil, fmt.Errorf("reading --key: %w", err)
		}
		if sealer, err = events.NewSealer(key); err != nil {
			return nil, err
		}
	}
	began := time.Now()
	h, err := projections.LoadFile(cfg.Replay, sealer)
	if err != nil {
		return nil, err
	}
	end := h.Header().LastTime
	if end.IsZero() {
		end = h.Header().ExportedAt
	}
	ctx, cancel := context.WithCancel(ctx)
	d := &Stromd{cfg: cfg, log: cfg.Logger, cancel: cancel,
		AdminConfig: filepath.Join(cfg.DataDir, "admin.conf"),
		AgentConfig: filepath.Join(cfg.DataDir, "agent.conf")}
	defer func() {
		if err != nil {
			d.Stop()
		}
	}()
	creds, err := d.connect()
	if err != nil {
		return nil, err
	}
	core := apiserver.NewCore(apiserver.Config{
		History: h, Logger: cfg.Logger.Named("replay"), Now: func() time.Time { return end },
		Source: "file:" + cfg.Replay, Info: api.ClusterInfo{Version: Version, NATS: d.URL},
	})
	if _, err := apiserver.ServeNATS(ctx, d.nc, core, apiserver.NATSOptions{MaxInFlight: 64}); err != nil {
		return nil, err
	}
	if err := d.writeClientConfigs(creds); err != nil {
		return nil, err
	}
	hd := h.Header()
	cfg.Logger.Info("stromd replaying a recorded log (read-only)", zap.String("file", cfg.Replay),
		zap.Uint64("first", hd.FirstSeq), zap.Uint64("last", hd.LastSeq), zap.Bool("secrets_sealed", h.Sealed()),
		zap.Duration("loaded_in", time.Since(began)), zap.String("nats", d.URL), zap.String("admin_config", d.AdminConfig))
	return d, nil
}

// snapshotInterval is how often the projection snapshots on a timer, on
// top of every SnapshotEvery events: well inside the retention window, so
// that objects whose only events age out still live in a snapshot.
func (c *Config) snapshotInterval() time.Duration {
	if c.SnapshotInterval > 0 {
		return c.SnapshotInterval
	}
	iv := time.Hour
	if c.RetentionAge > 0 && c.RetentionAge/8 < iv {
		iv = max(c.RetentionAge/8, time.Second)
	}
	return iv
}
