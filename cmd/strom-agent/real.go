package main

import (
	"context"
	"errors"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/agent"
)

// realOptions configure real pods on containerd.
type realOptions struct {
	containerdAddress string
	rootDir           string
	clusterDNS        string
	manifestDir       string
	cleanup           bool
}

func addRealFlags(f *pflag.FlagSet, o *realOptions) {
	f.StringVar(&o.containerdAddress, "containerd-address", "/run/containerd/containerd.sock", "containerd socket")
	f.StringVar(&o.rootDir, "root-dir", "/var/lib/strom/agent", "pod volumes, logs and runtime state")
	f.StringVar(&o.clusterDNS, "cluster-dns", "", "cluster DNS address written to pods' resolv.conf")
	f.StringVar(&o.manifestDir, "manifest-dir", "", "directory of static pod manifests")
	f.BoolVar(&o.cleanup, "cleanup", false, "remove every iptables rule and chain the agent owns, then exit")
}

// realPods builds the containerd pod manager.
func realPods(o *realOptions, node, nodeIP string, log *zap.Logger) (func(*corev1.Node, *agent.Status) (agent.PodManager, error), error) {
	return nil, errors.New("real pods on containerd are not wired into strom-agent yet (issue 3); use --hollow for scale tests")
}

func cleanup(ctx context.Context, o *realOptions, log *zap.Logger) error {
	return errors.New("--cleanup: the service proxy is not wired into strom-agent yet (issue 5)")
}
