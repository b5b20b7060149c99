package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/cmd/stromd/app"
)

// agentOptions are the in-process node agent's flags.
type agentOptions struct {
	containerdAddress string
	rootDir           string
	runDir            string
	logDir            string
	nodeIP            string
	clusterDNS        string
	imageDir          string
	manifestDir       string
	noServiceProxy    bool // services issue
	proxyMode         string
}

var agentFlags agentOptions

func addAgentFlags(f *pflag.FlagSet, o *agentOptions) {
	f.StringVar(&o.containerdAddress, "containerd-address", "/run/containerd/containerd.sock", "containerd socket for the node agent")
	f.StringVar(&o.rootDir, "agent-root-dir", "/var/lib/strom/agent", "the node agent's pod volumes, sandboxes and CNI state (IP allocations included)")
	f.StringVar(&o.runDir, "agent-run-dir", "/run/strom", "the node agent's pinned pod network namespaces and exec FIFOs")
	f.StringVar(&o.logDir, "agent-log-dir", "/var/log/strom/pods", "the node agent's container logs")
	f.StringVar(&o.nodeIP, "node-ip", "", "this node's InternalIP (default: the address of the default route's interface)")
	f.StringVar(&o.clusterDNS, "cluster-dns", "", "cluster DNS addresses (comma-separated) written to pods' resolv.conf")
	f.StringVar(&o.imageDir, "image-dir", "", "import every *.tar image archive in this directory at start")
	f.StringVar(&o.manifestDir, "manifest-dir", "", "directory of static pod manifests the node agent keeps running")
	f.BoolVar(&o.noServiceProxy, "no-service-proxy", false, "run neither the service proxy nor the node-local cluster DNS")
	f.StringVar(&o.proxyMode, "proxy-mode", "iptables", "service proxy data plane: iptables (iptables-restore) or nftables (nft, for many services)")
}

// agentFunc runs the node agent in-process, with real pods on containerd.
func agentFunc(o *agentOptions) app.AgentFunc {
	return func(ctx context.Context, env app.AgentEnv) error {
		self, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding own executable for the log driver: %w", err)
		}
		rc := agent.RealConfig{
			ImageFS:           "/var/lib/containerd",
			ContainerdAddress: o.containerdAddress, RootDir: o.rootDir, RunDir: o.runDir, LogDir: o.logDir, LogDriver: self,
			ImageDir: o.imageDir, NodeIP: o.nodeIP, Conn: env.Conn, Logger: env.Logger,
		}
		if o.clusterDNS != "" {
			rc.ClusterDNS = strings.Split(o.clusterDNS, ",")
		}
		if !o.noServiceProxy {
			rc.Services = &agent.ServicesConfig{ServiceCIDR: env.ServiceCIDR, ClusterCIDR: env.ClusterCIDR, NodeIP: o.nodeIP,
				NoDNS: o.clusterDNS != "", ProxyMode: o.proxyMode}
		}
		nodeIP := o.nodeIP
		if nodeIP == "" {
			nodeIP = agent.DefaultNodeIP() // the Node's InternalIP only; services keep listening on every address
		}
		info := agent.HostSystemInfo("/")
		return agent.Run(ctx, agent.Config{
			NodeName: env.NodeName, NodeIP: nodeIP, SystemInfo: &info, Client: env.Client, Conn: env.Conn,
			Pods: agent.RealPods(rc), WaitForPodCIDR: true, ManifestDir: o.manifestDir, Version: "strom-" + app.Version, Logger: env.Logger,
		})
	}
}
