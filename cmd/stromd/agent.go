package main

import (
	"context"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/app"
)

// agentOptions are the in-process node agent's flags.
type agentOptions struct {
	ContainerdAddress string
}

var agentFlags agentOptions

func addAgentFlags(f *pflag.FlagSet, o *agentOptions) {
	f.StringVar(&o.ContainerdAddress, "containerd-address", "/run/containerd/containerd.sock", "containerd socket for the node agent")
}

// agentFunc returns the in-process node agent.
// TODO(issue 3): run the real node agent; until then stromd serves the
// control plane only and says so.
func agentFunc(o *agentOptions) app.AgentFunc {
	return func(ctx context.Context, env app.AgentEnv) error {
		env.Logger.Warn("the node agent is not built yet: pods will stay Pending", zap.String("node", env.NodeName))
		<-ctx.Done()
		return nil
	}
}
