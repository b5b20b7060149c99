package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/agent/proxy"
)

// realOptions configure real pods on containerd.
type realOptions struct {
	containerdAddress string
	rootDir           string
	runDir            string
	logDir            string
	clusterDNS        string
	imageDir          string
	manifestDir       string
	cleanup           bool
	noServiceProxy    bool   // services issue
	serviceCIDR       string // services issue
	clusterCIDR       string // services issue
	proxyMode         string
}

func addRealFlags(f *pflag.FlagSet, o *realOptions) {
	f.StringVar(&o.containerdAddress, "containerd-address", "/run/containerd/containerd.sock", "containerd socket")
	f.StringVar(&o.rootDir, "root-dir", "/var/lib/strom/agent", "pod volumes, sandboxes and CNI state (IP allocations included)")
	f.StringVar(&o.runDir, "run-dir", "/run/strom", "pinned pod network namespaces and exec FIFOs")
	f.StringVar(&o.logDir, "log-dir", "/var/log/strom/pods", "container logs")
	f.StringVar(&o.clusterDNS, "cluster-dns", "", "cluster DNS addresses (comma-separated) written to pods' resolv.conf")
	f.StringVar(&o.imageDir, "image-dir", "", "import every *.tar image archive in this directory at start")
	f.StringVar(&o.manifestDir, "manifest-dir", "", "directory of static pod manifests")
	f.BoolVar(&o.cleanup, "cleanup", false, "remove every iptables rule and chain and the nftables table the agent owns, then exit")
	f.BoolVar(&o.noServiceProxy, "no-service-proxy", false, "run neither the service proxy nor the node-local cluster DNS")
	f.StringVar(&o.proxyMode, "proxy-mode", "iptables", "service proxy data plane: iptables (iptables-restore) or nftables (nft, for many services)")
	f.StringVar(&o.serviceCIDR, "service-cidr", "10.43.0.0/16", "ClusterIP range, routed to the pod bridge")
	f.StringVar(&o.clusterCIDR, "cluster-cidr", "10.42.0.0/16", "pod address range (traffic from elsewhere to services is masqueraded)")
}

// RealConfig turns the flags into the agent's real-pod configuration.
func (o *realOptions) RealConfig(nodeIP string, log *zap.Logger) (agent.RealConfig, error) {
	if err := proxy.CheckMode(o.proxyMode); err != nil {
		return agent.RealConfig{}, fmt.Errorf("--proxy-mode: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return agent.RealConfig{}, fmt.Errorf("finding own executable for the log driver: %w", err)
	}
	rc := agent.RealConfig{
		ContainerdAddress: o.containerdAddress, RootDir: o.rootDir, RunDir: o.runDir, LogDir: o.logDir, LogDriver: self,
		ImageDir: o.imageDir, NodeIP: nodeIP, Logger: log, ImageFS: "/var/lib/containerd",
	}
	if o.clusterDNS != "" {
		rc.ClusterDNS = strings.Split(o.clusterDNS, ",")
	}
	if !o.noServiceProxy {
		rc.Services = &agent.ServicesConfig{ServiceCIDR: o.serviceCIDR, ClusterCIDR: o.clusterCIDR, NodeIP: nodeIP,
			NoDNS: o.clusterDNS != "", ProxyMode: o.proxyMode}
	}
	return rc, nil
}

// cleanup removes the service proxy's rules and chains from this host.
func cleanup(ctx context.Context, o *realOptions, log *zap.Logger) error {
	r, err := proxy.NewExecRunner(proxy.ExecOptions{})
	if err != nil {
		return fmt.Errorf("--cleanup: %w", err)
	}
	if err := proxy.Cleanup(r); err != nil {
		return fmt.Errorf("--cleanup: %w", err)
	}
	if nft, err := proxy.NewExecNFT(""); err == nil {
		if err := proxy.CleanupNFT(nft); err != nil {
			return fmt.Errorf("--cleanup: %w", err)
		}
	} else {
		log.Info("nft not installed, so no nftables table to remove")
	}
	log.Info("removed every iptables rule and chain and the nftables table the agent owns")
	return nil
}
