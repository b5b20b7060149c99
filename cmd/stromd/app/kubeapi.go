package app

import (
	"context"
	"fmt"
	"net"
	"path/filepath"

	"go.uber.org/zap"

	"github.com/strom-project/strom/cmd/stromd/apiserver"
	"github.com/strom-project/strom/cmd/stromd/kubeapi"
)

// KubeconfigFile is the admin kubeconfig's name in the data directory.
const KubeconfigFile = "kubeconfig"

// prepareKubeAPI opens the Kubernetes HTTPS API's listener, makes sure of
// its credentials (the cluster CA in <data-dir>/pki) and writes the admin
// kubeconfig.
func (d *Stromd) prepareKubeAPI() (*kubeapi.Server, error) {
	cfg := d.cfg
	host, _, err := net.SplitHostPort(cfg.APIListen)
	if err != nil {
		return nil, fmt.Errorf("--api-listen %q: want host:port: %w", cfg.APIListen, err)
	}
	pki, err := kubeapi.EnsurePKI(filepath.Join(cfg.DataDir, "pki"), []string{host})
	if err != nil {
		return nil, fmt.Errorf("Kubernetes API credentials: %w", err)
	}
	srv, err := kubeapi.Listen(kubeapi.Config{NodeConn: d.nc, Listen: cfg.APIListen, PKI: pki, Logger: d.log.Named("kubeapi"), StromVersion: Version})
	if err != nil {
		return nil, err
	}
	d.KubeAPI = srv.Addr()
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		_, port, _ := net.SplitHostPort(d.KubeAPI)
		d.KubeAPI = net.JoinHostPort("127.0.0.1", port)
	}
	d.Kubeconfig = filepath.Join(cfg.DataDir, KubeconfigFile)
	if err := pki.WriteKubeconfig(d.Kubeconfig, "https://"+d.KubeAPI); err != nil {
		srv.Close()
		return nil, fmt.Errorf("writing %s: %w", d.Kubeconfig, err)
	}
	return srv, nil
}

// serveKubeAPI serves the Kubernetes HTTPS API over the same core as the
// NATS API until ctx ends.
func (d *Stromd) serveKubeAPI(ctx context.Context, srv *kubeapi.Server, core *apiserver.Core) error {
	wait, err := srv.Serve(ctx, core)
	if err != nil {
		return err
	}
	d.kubeDone = make(chan struct{})
	go func() {
		defer close(d.kubeDone)
		if err := wait(); err != nil && ctx.Err() == nil {
			d.log.Error("Kubernetes API server stopped", zap.Error(err))
		}
	}()
	d.log.Info("Kubernetes API serving", zap.String("address", "https://"+d.KubeAPI), zap.String("kubeconfig", d.Kubeconfig))
	return nil
}
