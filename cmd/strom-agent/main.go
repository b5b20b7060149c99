// Command strom-agent is Strom's node agent: it registers its node and
// runs the pods bound to it on containerd. With --hollow it runs nodes
// without containers (thousands in one process) for scale tests.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/cmd/internal/logging"
	"github.com/strom-project/strom/events/api"
)

var version = "dev"

type options struct {
	config    string
	server    string
	token     string
	tokenFile string
	nodeName  string
	nodeIP    string
	hollow    int
	logLevel  string
	logFormat string
	real      realOptions
}

func main() {
	// The containerd shim runs this binary as the log driver of every
	// container (see agent/runtime.RunLogDriver).
	if runtime.IsLogDriverInvocation(os.Args) {
		runtime.RunLogDriver(os.Args[2])
		return
	}
	if err := newCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "strom-agent:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	var o options
	cmd := &cobra.Command{
		Use:           "strom-agent",
		Short:         "Strom node agent",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := logging.New(o.logLevel, o.logFormat)
			if err != nil {
				return err
			}
			defer func() { _ = log.Sync() }()
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if o.real.cleanup {
				return cleanup(ctx, &o.real, log)
			}
			if o.nodeName == "" {
				o.nodeName, _ = os.Hostname()
			}
			if err := o.join(ctx); err != nil {
				return err
			}
			cfg, err := api.LoadConfig(o.config)
			if err != nil {
				return err
			}
			if node, ok := api.NodeOfUser(cfg.User); ok {
				switch {
				case o.hollow > 0:
					return fmt.Errorf("--hollow runs many nodes and needs the admin's config (admin.conf); %s holds node %s's own credential", o.config, node)
				case node != o.nodeName:
					return fmt.Errorf("%s holds node %s's credential, not node %s's (--node-name); a node may act only as itself", o.config, node, o.nodeName)
				}
			}
			client, err := api.Dial(cfg)
			if err != nil {
				return err
			}
			defer client.Close()
			if o.hollow > 0 {
				return runHollow(ctx, client, &o, log)
			}
			rc, err := o.real.RealConfig(o.nodeIP, log)
			if err != nil {
				return err
			}
			rc.Conn = client.Conn()
			nodeIP := o.nodeIP
			if nodeIP == "" {
				nodeIP = agent.DefaultNodeIP() // the Node's InternalIP only; services keep listening on every address
			}
			info := agent.HostSystemInfo("/")
			return agent.Run(ctx, agent.Config{NodeName: o.nodeName, NodeIP: nodeIP, SystemInfo: &info, Client: client, Conn: client.Conn(),
				Pods: agent.RealPods(rc), WaitForPodCIDR: true, ManifestDir: o.real.manifestDir,
				Version: "strom-" + version, Logger: log})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "/var/lib/strom/agent.conf", "agent client config written by stromd (agent.conf)")
	f.StringVar(&o.server, "server", "", "join: stromd's NATS address (nats://HOST:PORT); with --token")
	f.StringVar(&o.token, "token", "", "join: the cluster's join token (<data-dir>/join-token on the first server); the node's own credential is written to --config")
	f.StringVar(&o.tokenFile, "token-file", "", "join: read the join token from this file")
	f.StringVar(&o.nodeName, "node-name", "", "node name (default: hostname)")
	f.StringVar(&o.nodeIP, "node-ip", "", "node's InternalIP (default: the address of the default route's interface)")
	f.IntVar(&o.hollow, "hollow", 0, "run this many hollow nodes (no containers) named <node-name>-<i>, for scale tests")
	f.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "console", "console or json")
	addRealFlags(f, &o.real)
	return cmd
}

// runHollow runs n hollow nodes sharing one connection.
func runHollow(ctx context.Context, client *api.Client, o *options, log *zap.Logger) error {
	var wg sync.WaitGroup
	errs := make(chan error, o.hollow)
	for i := 0; i < o.hollow; i++ {
		name := o.nodeName + "-" + strconv.Itoa(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := agent.Run(ctx, agent.Config{NodeName: name, Client: client, Conn: client.Conn(),
				Version: "strom-hollow-" + version, Logger: log.Named(name)}); err != nil {
				errs <- fmt.Errorf("hollow node %s: %w", name, err)
			}
		}()
	}
	log.Info("hollow nodes running", zap.Int("count", o.hollow))
	wg.Wait()
	close(errs)
	return <-errs
}
