package pods

import (
	"context"
	"net"
	"time"

	"github.com/strom-project/strom/agent/network"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/agent/volumes"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// ErrObjectNotFound must be wrapped by ObjectGetter when the object does not
// exist (it is the same value as volumes.ErrObjectNotFound).
var ErrObjectNotFound = volumes.ErrObjectNotFound

// StatusWriter is the control plane's write path for what the node reports.
type StatusWriter interface {
	// UpdatePodStatus writes pod.Status through the control plane's write
	// path.
	UpdatePodStatus(ctx context.Context, pod *corev1.Pod) error
	// PodTerminated tells the control plane that a pod with
	// deletionTimestamp has no running containers left on this node, so it
	// may be removed from the log.
	PodTerminated(ctx context.Context, pod *corev1.Pod) error
	// Event records a Kubernetes Event about the pod (type Normal/Warning,
	// reason, message), de-duplicated by the implementation.
	Event(ctx context.Context, pod *corev1.Pod, eventType, reason, message string)
}

// ObjectGetter reads ConfigMaps and Secrets from the control plane. A missing
// object is an error wrapping ErrObjectNotFound.
type ObjectGetter interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// PortMapping is a hostPort of the pod.
type PortMapping = network.PortMapping

// Network attaches a pod's network namespace to the node's pod network.
type Network interface {
	// Setup attaches the pod and returns its IP; it is idempotent.
	Setup(ctx context.Context, podUID, netnsPath string, ports []PortMapping) (ip string, err error)
	// Teardown detaches the pod; tearing down what is gone succeeds.
	Teardown(ctx context.Context, podUID, netnsPath string) error
}

// NetworkAdapter adapts *network.Manager to Network.
type NetworkAdapter struct{ M *network.Manager }

// Setup calls network.Manager.Setup with the pod UID as the CNI container ID.
func (a NetworkAdapter) Setup(ctx context.Context, podUID, netnsPath string, ports []PortMapping) (string, error) {
	ip, err := a.M.Setup(ctx, podUID, netnsPath, ports)
	if err != nil {
		return "", err
	}
	return ip.String(), nil
}

// PodIP returns the IP the network still holds for the pod, if any.
func (a NetworkAdapter) PodIP(podUID string) (string, bool) {
	ip, ok := a.M.PodIP(podUID)
	if !ok {
		return "", false
	}
	return ip.String(), true
}

// cachedIPer is implemented by networks that remember their attachments
// (NetworkAdapter does); the worker uses it to release a stale attachment
// before attaching a recreated sandbox.
type cachedIPer interface {
	PodIP(podUID string) (string, bool)
}

// Teardown calls network.Manager.Teardown.
func (a NetworkAdapter) Teardown(ctx context.Context, podUID, netnsPath string) error {
	return a.M.Teardown(ctx, podUID, netnsPath)
}

// DNS is the cluster DNS the pods of policy ClusterFirst use.
type DNS struct {
	ClusterDNS    []string // nameserver IPs; empty: pods get the host's resolv.conf
	ClusterDomain string   // default cluster.local
}

// Config configures a Manager. Zero values take the defaults shown.
type Config struct {
	NodeName string
	NodeIP   string
	Runtime  runtime.Runtime
	Network  Network
	Status   StatusWriter
	Objects  ObjectGetter
	DNS      DNS
	// RootDir holds pod state; volumes live under RootDir/pods/<uid>/volumes.
	// Default /var/lib/strom/agent.
	RootDir string
	Clock   clock.PassiveClock
	Logger  *zap.Logger

	// HostResolvConf is read for dnsPolicy Default; /etc/resolv.conf.
	HostResolvConf string
	// ProbeDial opens probe and hook connections from the node to the pod;
	// nil uses a plain net.Dialer.
	ProbeDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// SyncPeriod is how often a worker re-checks its pod without being
	// woken; 1s.
	SyncPeriod time.Duration
	// OrphanGracePeriod is the stop grace for containers of pods the agent
	// knows nothing about (found in the runtime at start); 10s.
	OrphanGracePeriod time.Duration
	// Backoff of crashing containers and failed pulls; kubelet's 10s
	// doubling to 5m, reset after 10m of running.
	BackoffInitial, BackoffMax, BackoffReset time.Duration
}

func (c *Config) setDefaults() {
	if c.DNS.ClusterDomain == "" {
		c.DNS.ClusterDomain = "cluster.local"
	}
	if c.RootDir == "" {
		c.RootDir = "/var/lib/strom/agent"
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.HostResolvConf == "" {
		c.HostResolvConf = "/etc/resolv.conf"
	}
	if c.SyncPeriod <= 0 {
		c.SyncPeriod = time.Second
	}
	if c.OrphanGracePeriod <= 0 {
		c.OrphanGracePeriod = 10 * time.Second
	}
	if c.BackoffInitial <= 0 {
		c.BackoffInitial = 10 * time.Second
	}
	if c.BackoffMax <= 0 {
		c.BackoffMax = 5 * time.Minute
	}
	if c.BackoffReset <= 0 {
		c.BackoffReset = 10 * time.Minute
	}
}
