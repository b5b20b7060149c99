package runtime

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
	"go.uber.org/zap"
	"k8s.io/utils/clock"
)

// Config configures the containerd runtime. Zero values take the defaults
// shown.
type Config struct {
	Address     string // containerd socket; /run/containerd/containerd.sock
	Namespace   string // containerd namespace; "strom"
	Snapshotter string // "overlayfs"
	// StateDir holds one directory per pod sandbox (sandbox.json, hostname,
	// hosts, resolv.conf); /var/lib/strom/runtime.
	StateDir string
	// NetNSDir holds the pinned network namespaces; /run/strom/netns.
	NetNSDir string
	// LogDir holds container logs as
	// <namespace>_<pod>_<uid>/<container>/<restart>.log; /var/log/strom/pods.
	LogDir string
	// FIFODir holds the FIFOs of exec sessions; /run/strom/fifo.
	FIFODir string
	// LogDriver is the absolute path of a binary the shim runs as
	// "<LogDriver> strom-log-driver <log file>" to write a container's
	// output (see RunLogDriver; the agent binary itself, or
	// agent/runtime/logdriver). Empty: the shim writes the file itself
	// (cio.LogFile), which can lose the last stderr bytes of a process that
	// exits right after writing them.
	LogDriver string
	Logger    *zap.Logger
	Clock     clock.PassiveClock
}

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Address, "/run/containerd/containerd.sock")
	def(&c.Namespace, "strom")
	def(&c.Snapshotter, "overlayfs")
	def(&c.StateDir, "/var/lib/strom/runtime")
	def(&c.NetNSDir, "/run/strom/netns")
	def(&c.LogDir, "/var/log/strom/pods")
	def(&c.FIFODir, "/run/strom/fifo")
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
}

// Containerd is the Runtime backed by a containerd daemon.
type Containerd struct {
	client *containerd.Client
	cfg    Config
	log    *zap.Logger
	clock  clock.PassiveClock
}

var _ Runtime = (*Containerd)(nil)

// NewContainerd connects to containerd and prepares the runtime's
// directories. It fails if the daemon does not answer within 10 seconds.
func NewContainerd(ctx context.Context, cfg Config) (*Containerd, error) {
	cfg.setDefaults()
	for _, d := range []string{cfg.StateDir, cfg.NetNSDir, cfg.LogDir, cfg.FIFODir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	// A socket nobody listens on fails at once, not after the client's
	// dial timeout.
	conn, err := net.DialTimeout("unix", cfg.Address, time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to containerd at %s: %w: %w", cfg.Address, ErrUnavailable, err)
	}
	conn.Close()
	client, err := containerd.New(cfg.Address, containerd.WithDefaultNamespace(cfg.Namespace), containerd.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("connecting to containerd at %s: %w: %w", cfg.Address, ErrUnavailable, err)
	}
	if cfg.LogDriver == "" {
		cfg.Logger.Warn("no log driver configured: container logs are written by the shim, which can drop trailing stderr")
	} else if st, err := os.Stat(cfg.LogDriver); err != nil || st.Mode()&0o111 == 0 || !filepath.IsAbs(cfg.LogDriver) {
		client.Close()
		return nil, fmt.Errorf("log driver %q is not an executable absolute path (%v)", cfg.LogDriver, err)
	}
	c := &Containerd{client: client, cfg: cfg, log: cfg.Logger, clock: cfg.Clock}
	vctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := client.Version(c.ns(vctx))
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("asking containerd at %s its version: %w: %w", cfg.Address, ErrUnavailable, err)
	}
	c.log.Info("connected to containerd", zap.String("address", cfg.Address), zap.String("version", v.Version), zap.String("namespace", cfg.Namespace))
	return c, nil
}

// Healthy asks containerd for its version within 2 s: an error means the
// runtime is down or not answering (the client reconnects by itself when
// containerd returns).
func (c *Containerd) Healthy(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := c.client.Version(c.ns(hctx)); err != nil {
		return fmt.Errorf("containerd at %s: %w", c.cfg.Address, err)
	}
	return nil
}

// Version is containerd's version as kubelet reports a runtime's
// ("containerd://1.7.24"), asked within 2 s.
func (c *Containerd) Version(ctx context.Context) (string, error) {
	vctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	v, err := c.client.Version(c.ns(vctx))
	if err != nil {
		return "", fmt.Errorf("containerd at %s: %w", c.cfg.Address, err)
	}
	return "containerd://" + strings.TrimPrefix(v.Version, "v"), nil
}

// Close closes the connection to containerd; containers keep running.
func (c *Containerd) Close() error {
	return c.client.Close()
}

// Client exposes the containerd client, for tests and diagnostics.
func (c *Containerd) Client() *containerd.Client { return c.client }

// Namespace is the containerd namespace the runtime works in.
func (c *Containerd) Namespace() string { return c.cfg.Namespace }

func (c *Containerd) ns(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, c.cfg.Namespace)
}

// sandboxDir is the state directory of one pod.
func (c *Containerd) sandboxDir(podUID string) string {
	return filepath.Join(c.cfg.StateDir, "sandboxes", podUID)
}

// LogPath is where the output of a container's run is written.
func LogPath(logDir, podNamespace, podName, podUID, container string, restart int) string {
	return filepath.Join(PodLogDir(logDir, podNamespace, podName, podUID), container, fmt.Sprintf("%d.log", restart))
}

// PodLogDir is the directory of all container logs of a pod.
func PodLogDir(logDir, podNamespace, podName, podUID string) string {
	return filepath.Join(logDir, podNamespace+"_"+podName+"_"+podUID)
}
