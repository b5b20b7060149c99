package agent

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/strom-project/strom/agent/network"
	"github.com/strom-project/strom/agent/nodeapi"
	"github.com/strom-project/strom/agent/pods"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events"
)

// RealConfig configures real pods on containerd with CNI networking.
type RealConfig struct {
	ContainerdAddress string // /run/containerd/containerd.sock
	Namespace         string // containerd namespace; "strom"
	RootDir           string // agent state: pods, volumes, sandboxes, CNI cache; /var/lib/strom/agent
	RunDir            string // netns pins and exec FIFOs; /run/strom
	LogDir            string // container logs; /var/log/strom/pods
	// LogDriver is the absolute path of the binary the shim runs to write
	// container logs (the agent's own executable; see runtime.RunLogDriver).
	LogDriver  string
	ClusterDNS []string // nameservers written into pods' resolv.conf
	// ImageDir: every *.tar in it is imported at start (images for nodes
	// without registry access, e.g. the project's test images).
	ImageDir string
	// HostNetNS, BridgeName: for tests that run a node inside a netns.
	HostNetNS  string
	BridgeName string
	NodeIP     string
	// ProbeDial opens probe connections into pods (tests dial from the
	// node's netns); nil dials from the agent's own network namespace.
	ProbeDial func(ctx context.Context, network, addr string) (net.Conn, error)
	Conn      *nats.Conn // serves the node API (logs, exec)
	// Services, when set, runs the service proxy and node-local DNS
	// (services.go); pods get that DNS when ClusterDNS is empty.
	Services *ServicesConfig
	// CNIPluginDirs are where the CNI plugins are looked for; default
	// /usr/lib/cni (Debian's containernetworking-plugins).
	CNIPluginDirs []string
	// ImageFS is the filesystem holding the images (containerd's root,
	// /var/lib/containerd), measured for DiskPressure besides RootDir's;
	// "" measures RootDir's only.
	ImageFS string
	// Pressure are the thresholds of the pressure conditions; zero:
	// DefaultPressureThresholds (kubelet's).
	Pressure *PressureThresholds
	Logger   *zap.Logger
}

func (c *RealConfig) defaults() {
	if c.ContainerdAddress == "" {
		c.ContainerdAddress = "/run/containerd/containerd.sock"
	}
	if c.Namespace == "" {
		c.Namespace = "strom"
	}
	if c.RootDir == "" {
		c.RootDir = "/var/lib/strom/agent"
	}
	if c.RunDir == "" {
		c.RunDir = "/run/strom"
	}
	if c.LogDir == "" {
		c.LogDir = "/var/log/strom/pods"
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

// RealPods returns the factory Config.Pods needs for real containers.
func RealPods(rc RealConfig) func(context.Context, *corev1.Node, *Status) (PodManager, error) {
	rc.defaults()
	return func(ctx context.Context, node *corev1.Node, st *Status) (PodManager, error) {
		log := rc.Logger
		rt, err := connectRuntime(ctx, rc, st)
		if err != nil {
			return nil, err
		}
		if rc.ImageDir != "" {
			if err := importImages(ctx, rt, rc.ImageDir, log); err != nil {
				return nil, err
			}
		}
		netm, err := waitFor(ctx, st, func() (*network.Manager, error) {
			m, err := network.New(network.Config{
				PodCIDR: node.Spec.PodCIDR, CacheDir: filepath.Join(rc.RootDir, "cni"),
				BridgeName: rc.BridgeName, HostNetNS: rc.HostNetNS, PluginDirs: rc.CNIPluginDirs,
			}, log.Named("network"))
			if errors.Is(err, network.ErrPluginNotFound) {
				return nil, networkNotReady(err) // waiting mends it
			}
			if err != nil {
				return nil, fmt.Errorf("pod network %s: %w", node.Spec.PodCIDR, err)
			}
			return m, nil
		})
		if err != nil {
			return nil, err
		}
		clusterDNS := rc.ClusterDNS
		if rc.Services != nil {
			dnsIP, err := startServices(ctx, rc, node, netm, st.client) // services.go
			if err != nil {
				return nil, fmt.Errorf("starting the service proxy: %w", err)
			}
			if len(clusterDNS) == 0 && dnsIP != "" {
				clusterDNS = []string{dnsIP}
			}
		}
		pm := pods.NewManager(pods.Config{
			NodeName: node.Name, NodeIP: rc.NodeIP, Runtime: rt, Network: pods.NetworkAdapter{M: netm},
			Status: st, Objects: objectGetter{st}, DNS: pods.DNS{ClusterDNS: clusterDNS},
			RootDir: rc.RootDir, Logger: log.Named("pods"), ProbeDial: rc.ProbeDial,
		})
		if rc.Conn != nil {
			if err := nodeapi.Serve(ctx, rc.Conn, node.Name, pm, log.Named("nodeapi")); err != nil {
				return nil, fmt.Errorf("serving the node API: %w", err)
			}
			if err := nodeapi.ServeImages(ctx, rc.Conn, node.Name, rt, log.Named("nodeapi")); err != nil {
				return nil, fmt.Errorf("serving the node API: %w", err)
			}
		}
		return realPods{Manager: pm, rt: rt, net: netm, rc: rc}, nil
	}
}

// realPods is the pod manager of real pods; it can tell whether its
// runtime answers (RuntimeHealth).
type realPods struct {
	*pods.Manager
	rt  *runtime.Containerd
	net *network.Manager
	rc  RealConfig
}

// RuntimeHealthy implements RuntimeHealth: containerd answers and the
// CNI plugins are installed.
func (p realPods) RuntimeHealthy(ctx context.Context) error {
	if err := p.rt.Healthy(ctx); err != nil {
		return err
	}
	if err := p.net.CheckPlugins(); err != nil {
		return networkNotReady(err)
	}
	return nil
}

// RuntimeVersion implements RuntimeVersioner.
func (p realPods) RuntimeVersion(ctx context.Context) (string, error) { return p.rt.Version(ctx) }

// Pressure implements PressureSource.
func (p realPods) Pressure() (PressureSample, PressureThresholds, error) {
	th := DefaultPressureThresholds
	if p.rc.Pressure != nil {
		th = *p.rc.Pressure
	}
	s, err := SamplePressure(p.rc.RootDir, p.rc.ImageFS)
	return s, th, err
}

// Runtime connection back-off while containerd does not answer.
const (
	runtimeRetryMin = time.Second
	runtimeRetryMax = 30 * time.Second
)

// connectRuntime connects to containerd, waiting for it while it does not
// answer: the node is reported NotReady ("container runtime is down")
// meanwhile and the connection retried with capped exponential back-off,
// as kubelet does. Errors that waiting cannot mend (a bad log driver, a
// state directory that cannot be created) are returned.
func connectRuntime(ctx context.Context, rc RealConfig, st *Status) (*runtime.Containerd, error) {
	return waitFor(ctx, st, func() (*runtime.Containerd, error) {
		rt, err := runtime.NewContainerd(ctx, runtime.Config{
			Address: rc.ContainerdAddress, Namespace: rc.Namespace,
			StateDir: filepath.Join(rc.RootDir, "runtime"), NetNSDir: filepath.Join(rc.RunDir, "netns"),
			LogDir: rc.LogDir, FIFODir: filepath.Join(rc.RunDir, "fifo"), LogDriver: rc.LogDriver,
			Logger: rc.Logger.Named("runtime"),
		})
		if errors.Is(err, runtime.ErrUnavailable) {
			return nil, &notReadyError{message: MessageRuntimeDown, err: err} // waiting mends it
		}
		if err != nil {
			return nil, fmt.Errorf("starting the container runtime client: %w", err)
		}
		return rt, nil
	})
}

// waitFor calls try until it succeeds, with capped exponential back-off
// while it fails with a notReadyError (reported in the node's Ready
// condition meanwhile); any other error is returned.
func waitFor[T any](ctx context.Context, st *Status, try func() (T, error)) (T, error) {
	backoff := wait.Backoff{Duration: runtimeRetryMin, Factor: 2, Cap: runtimeRetryMax, Steps: math.MaxInt32}
	for {
		v, err := try()
		var nr *notReadyError
		switch {
		case err == nil:
			st.ReportRuntime(ctx, nil)
			return v, nil
		case !errors.As(err, &nr):
			return v, err
		case ctx.Err() != nil:
			return v, ctx.Err()
		}
		st.ReportRuntime(ctx, err)
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(backoff.Step()):
		}
	}
}

// importImages imports every archive in dir.
func importImages(ctx context.Context, rt runtime.Runtime, dir string, log *zap.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("image dir: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tar") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		names, err := rt.ImportImage(ctx, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("importing %s: %w", e.Name(), err)
		}
		log.Info("imported images", zap.String("file", e.Name()), zap.Strings("images", names))
	}
	return nil
}

// objectGetter maps the API's NotFound to the pod manager's.
type objectGetter struct{ st *Status }

func (g objectGetter) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	cm, err := g.st.ConfigMap(ctx, ns, name)
	if events.IsNotFound(err) {
		return nil, fmt.Errorf("configmap %q not found: %w", name, pods.ErrObjectNotFound)
	}
	return cm, err
}

func (g objectGetter) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	s, err := g.st.Secret(ctx, ns, name)
	if events.IsNotFound(err) {
		return nil, fmt.Errorf("secret %q not found: %w", name, pods.ErrObjectNotFound)
	}
	return s, err
}
