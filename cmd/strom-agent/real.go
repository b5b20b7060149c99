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
	clusterDNS        string
	imageDir          string
	manifestDir       string
	cleanup           bool
}

func addRealFlags(f *pflag.FlagSet, o *realOptions) {
	f.StringVar(&o.containerdAddress, "containerd-address", "/run/containerd/containerd.sock", "containerd socket")
	f.StringVar(&o.rootDir, "root-dir", "/var/lib/strom/agent", "pod volumes, sandboxes and CNI state")
	f.StringVar(&o.clusterDNS, "cluster-dns", "", "cluster DNS addresses (comma-separated) written to pods' resolv.conf")
	f.StringVar(&o.imageDir, "image-dir", "", "import every *.tar image archive in this directory at start")
	f.StringVar(&o.manifestDir, "manifest-dir", "", "directory of static pod manifests")
	f.BoolVar(&o.cleanup, "cleanup", false, "remove every iptables rule and chain the agent owns, then exit")
}

// RealConfig turns the flags into the agent's real-pod configuration.
func (o *realOptions) RealConfig(nodeIP string, log *zap.Logger) (agent.RealConfig, error) {
	self, err := os.Executable()
	if err != nil {
		return agent.RealConfig{}, fmt.Errorf("finding own executable for the log driver: %w", err)
	}
	rc := agent.RealConfig{
		ContainerdAddress: o.containerdAddress, RootDir: o.rootDir, LogDriver: self,
		ImageDir: o.imageDir, NodeIP: nodeIP, Logger: log,
	}
	if o.clusterDNS != "" {
		rc.ClusterDNS = strings.Split(o.clusterDNS, ",")
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
	log.Info("removed every iptables rule and chain the agent owns")
	return nil
}
