// Command stromd is Strom's control plane: the event log (embedded NATS
// JetStream by default), projections, the API, the reconcilers and, in
// all-in-one mode, the node agent.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent/proxy"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/cmd/internal/logging"
	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events/api"
)

func main() {
	// The containerd shim runs this binary as the log driver of the
	// in-process agent's containers (see agent/runtime.RunLogDriver).
	if runtime.IsLogDriverInvocation(os.Args) {
		runtime.RunLogDriver(os.Args[2])
		return
	}
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "stromd:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var cfg app.Config
	var logLevel, logFormat string
	cmd := &cobra.Command{
		Use:           "stromd",
		Short:         "Strom control plane (with an in-process node agent by default)",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logging.New(logLevel, logFormat)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			cfg.Logger = log
			logging.RouteKlog(log)
			if cfg.NATSPassword == "" {
				cfg.NATSPassword = os.Getenv("STROM_NATS_PASSWORD")
			}
			if cfg.AgentNATSPassword == "" {
				cfg.AgentNATSPassword = os.Getenv("STROM_AGENT_NATS_PASSWORD")
			}
			if err := proxy.CheckMode(agentFlags.proxyMode); err != nil {
				return fmt.Errorf("--proxy-mode: %w", err)
			}
			cfg.Agent = agentFunc(&agentFlags)
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			d, err := app.Start(ctx, cfg)
			if err != nil {
				log.Error("stromd failed to start", zap.Error(err))
				return err
			}
			<-ctx.Done()
			log.Info("shutting down")
			d.Stop()
			log.Info("stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", api.DefaultDataDir, "state directory: JetStream store, keys, admin.conf")
	f.StringVar(&cfg.Listen, "listen", "127.0.0.1:4222", "embedded NATS listen address")
	f.StringVar(&cfg.APIListen, "api-listen", "127.0.0.1:6443", "Kubernetes HTTPS API listen address (kubectl, helm, client-go); \"\" serves none")
	f.StringVar(&cfg.NATSURL, "nats-url", "", "use this NATS server or cluster instead of the embedded one")
	f.StringVar(&cfg.NATSCreds, "nats-creds", "", "credentials file (.creds) for --nats-url")
	f.StringVar(&cfg.NATSUser, "nats-user", "", "user for --nats-url (password from $STROM_NATS_PASSWORD)")
	f.StringVar(&cfg.AgentNATSCreds, "agent-nats-creds", "", "with --nats-url: the node agents' own credentials file, written into agent.conf (never stromd's)")
	f.StringVar(&cfg.AgentNATSUser, "agent-nats-user", "", "with --nats-url: the node agents' own user for agent.conf (password from $STROM_AGENT_NATS_PASSWORD; never stromd's)")
	f.StringVar(&cfg.NodeName, "node-name", "", "this node's name (default: hostname)")
	f.BoolVar(&cfg.NoAgent, "no-agent", false, "run the control plane only, without the in-process node agent")
	f.IntVar(&cfg.Replicas, "replicas", 0, "copies of the event log JetStream keeps (default: 1 on one server, the cluster's size up to 3 on a NATS cluster)")
	f.Uint64Var(&cfg.SnapshotEvery, "snapshot-every", 10000, "events between projection snapshots")
	f.StringVar(&cfg.Fsync, "fsync", "", "when an acknowledged write is on disk (embedded NATS): group (the default: fsync before every acknowledgement, shared by concurrent writes), always (one fsync per write), or interval (background sync every 2 minutes: survives a crash of stromd, not a power loss)")
	f.BoolVar(&cfg.FsyncAlways, "fsync-always", false, "deprecated: --fsync=always")
	// Time travel: retention window and offline replay (docs/bench/timetravel.md).
	f.DurationVar(&cfg.RetentionAge, "retention-age", 7*24*time.Hour, "keep history this long (0: forever); older points are served from snapshots")
	cfg.RetentionSize = 10 << 30
	f.Var((*byteSize)(&cfg.RetentionSize), "retention-size", "keep at most this much history, e.g. 10GiB, 500MiB (0: no limit)")
	f.DurationVar(&cfg.SnapshotInterval, "snapshot-interval", 0, "also snapshot on this timer (default: retention-age/8, at most 1h)")
	f.StringVar(&cfg.Replay, "replay", "", "serve a read-only control plane from this 'strom log export' file")
	f.StringVar(&cfg.ReplayKey, "key", "", "with --replay: the cluster's secret.key, to read Secrets (else they stay sealed)")
	f.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&logFormat, "log-format", "console", "console or json")
	addAgentFlags(f, &agentFlags)
	return cmd
}
