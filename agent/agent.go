package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	goruntime "runtime"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/kubeevents"
)

// PodManager converges the pods bound to this node.
type PodManager interface {
	// Sync hands over the full desired set (level-based).
	Sync(ctx context.Context, pods []*corev1.Pod)
	// Update and Remove hand over single changes.
	Update(ctx context.Context, pod *corev1.Pod)
	Remove(ctx context.Context, uid types.UID)
	Run(ctx context.Context) error
}

// Config configures an agent.
type Config struct {
	NodeName string
	NodeIP   string
	Client   *api.Client
	Conn     *nats.Conn
	// Pods builds the pod manager once the node is registered (its pod
	// CIDR known); nil runs a hollow node.
	Pods func(ctx context.Context, node *corev1.Node, status *Status) (PodManager, error)

	Capacity  corev1.ResourceList // default: this machine's
	Labels    map[string]string
	Resync    time.Duration // full list of this node's pods; default 30 s
	Heartbeat time.Duration // lease renewal; default 10 s
	// RuntimeCheck is how often a pod manager with a runtime
	// (RuntimeHealth) is asked whether it answers; default 5 s.
	RuntimeCheck time.Duration
	// PressureCheck is how often a pod manager of a real machine
	// (PressureSource) is sampled for node pressure; default 10 s, as
	// kubelet's eviction manager.
	PressureCheck time.Duration
	// ManifestDir holds static pod manifests the agent keeps running.
	ManifestDir string
	// WaitForPodCIDR makes the agent wait until the control plane has
	// assigned the node a pod CIDR (real pods need it; hollow ones don't).
	WaitForPodCIDR bool
	Version        string
	// SystemInfo is the machine's identity for status.nodeInfo
	// (HostSystemInfo); nil for hollow nodes.
	SystemInfo *corev1.NodeSystemInfo
	Clock      clock.PassiveClock
	Logger     *zap.Logger
}

func (c *Config) defaults() {
	if c.Resync == 0 {
		c.Resync = 30 * time.Second
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 10 * time.Second
	}
	if c.RuntimeCheck == 0 {
		c.RuntimeCheck = 5 * time.Second
	}
	if c.PressureCheck == 0 {
		c.PressureCheck = 10 * time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.RealClock{}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.Version == "" {
		c.Version = "strom-dev"
	}
	if c.Capacity == nil {
		c.Capacity = MachineCapacity()
	}
}

// MachineCapacity reads this machine's CPUs and memory; pods per node is
// Kubernetes' default, 110.
func MachineCapacity() corev1.ResourceList {
	mem := int64(0)
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(data), "MemTotal: %d kB", &kb); err == nil {
			mem = kb * 1024
		}
	}
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(110, resource.DecimalSI),
	}
}

// Agent is a running node agent.
type Agent struct {
	cfg    Config
	log    *zap.Logger
	status *Status

	mu   sync.Mutex
	seen map[types.UID]uint64 // resourceVersion last handed to the manager
}

// Run registers the node and serves it until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	a := &Agent{cfg: cfg, log: cfg.Logger.With(zap.String("node", cfg.NodeName)), seen: map[types.UID]uint64{}}
	a.status = &Status{client: cfg.Client, clock: cfg.Clock, rec: kubeevents.New(kubeevents.ClientBackend(cfg.Client), "kubelet", cfg.NodeName, cfg.Clock, a.log)}
	node, err := a.register(ctx)
	if err != nil {
		return err
	}
	a.status.ready = newReadiness(a.status, cfg.NodeName, a.log)
	go a.heartbeat(ctx)
	if cfg.WaitForPodCIDR {
		if node, err = a.waitForPodCIDR(ctx); err != nil {
			return err
		}
	}
	var pm PodManager
	if cfg.Pods != nil {
		if pm, err = cfg.Pods(ctx, node, a.status); err != nil {
			return fmt.Errorf("starting pod manager: %w", err)
		}
	} else {
		pm = NewHollow(a.status, cfg.Clock)
	}
	if h, ok := pm.(RuntimeHealth); ok {
		go a.watchRuntime(ctx, h, cfg.RuntimeCheck)
	}
	if v, ok := pm.(RuntimeVersioner); ok {
		go a.reportRuntimeVersion(ctx, v)
	}
	if src, ok := pm.(PressureSource); ok {
		go a.watchPressure(ctx, src, cfg.PressureCheck)
	}
	// Subscribe before listing so no change falls between the two.
	sub, err := cfg.Conn.Subscribe(api.PodFeedSubject(cfg.NodeName), func(m *nats.Msg) { a.onFeed(ctx, pm, m) })
	if err != nil {
		return fmt.Errorf("subscribing to the pod feed: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }()
	done := make(chan error, 1)
	go func() { done <- pm.Run(ctx) }()
	if cfg.ManifestDir != "" {
		go a.staticPods(ctx, cfg.ManifestDir, 20*time.Second)
	}
	a.resync(ctx, pm)
	t := time.NewTicker(cfg.Resync)
	defer t.Stop()
	a.log.Info("node agent ready", zap.String("podCIDR", node.Spec.PodCIDR))
	for {
		select {
		case <-ctx.Done():
			<-done
			return nil
		case err := <-done:
			return fmt.Errorf("pod manager stopped: %w", err)
		case <-t.C:
			a.resync(ctx, pm)
		}
	}
}

// onFeed hands one pod change to the manager, skipping stale ones.
func (a *Agent) onFeed(ctx context.Context, pm PodManager, m *nats.Msg) {
	var msg api.PodFeedMessage
	if err := json.Unmarshal(m.Data, &msg); err != nil {
		a.log.Warn("bad feed message", zap.Error(err))
		return
	}
	uid := types.UID(msg.UID)
	a.mu.Lock()
	if msg.Seq <= a.seen[uid] {
		a.mu.Unlock()
		return
	}
	a.seen[uid] = msg.Seq
	a.mu.Unlock()
	if msg.Type == events.TypeDeleted {
		pm.Remove(ctx, uid)
		return
	}
	var pod corev1.Pod
	if err := json.Unmarshal(msg.Pod, &pod); err != nil {
		a.log.Warn("bad pod in feed", zap.Error(err))
		return
	}
	pm.Update(ctx, &pod)
}

// resync lists this node's pods and hands the whole set to the manager.
func (a *Agent) resync(ctx context.Context, pm PodManager) {
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	resp, err := a.cfg.Client.ListAll(lctx, api.Request{Resource: "pods", AllNamespaces: true, FieldSelector: "spec.nodeName=" + a.cfg.NodeName})
	if err != nil {
		if ctx.Err() == nil {
			a.log.Warn("listing pods", zap.Error(err))
		}
		return
	}
	pods := make([]*corev1.Pod, 0, len(resp.Items))
	seen := make(map[types.UID]uint64, len(resp.Items))
	for _, item := range resp.Items {
		var p corev1.Pod
		if err := json.Unmarshal(item, &p); err != nil {
			a.log.Warn("bad pod in list", zap.Error(err))
			continue
		}
		pods = append(pods, &p)
		seen[p.UID] = events.SeqOf(p.ResourceVersion)
	}
	a.mu.Lock()
	a.seen = seen
	a.mu.Unlock()
	pm.Sync(ctx, pods)
}

// register creates the Node, or marks an existing one Ready again.
func (a *Agent) register(ctx context.Context) (*corev1.Node, error) {
	now := metav1.NewTime(a.cfg.Clock.Now().UTC().Truncate(time.Second))
	labels := map[string]string{
		"kubernetes.io/hostname": a.cfg.NodeName, "kubernetes.io/os": goruntime.GOOS, "kubernetes.io/arch": goruntime.GOARCH,
	}
	for k, v := range a.cfg.Labels {
		labels[k] = v
	}
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
		Message: "strom-agent is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}
	want := &corev1.Node{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: labels},
		Status: corev1.NodeStatus{
			Capacity: a.cfg.Capacity, Allocatable: a.cfg.Capacity,
			Conditions: []corev1.NodeCondition{ready},
			Addresses:  a.addresses(),
			NodeInfo:   a.withSystemInfo(""),
		},
	}
	cur, err := getNode(ctx, a.cfg.Client, a.cfg.NodeName)
	switch {
	case events.IsNotFound(err):
		data, _ := json.Marshal(want)
		resp, err := a.cfg.Client.Do(ctx, api.VerbCreate, &api.Request{Object: data})
		if err != nil {
			return nil, fmt.Errorf("registering node %s: %w", a.cfg.NodeName, err)
		}
		a.log.Info("registered node")
		return decodeNode(resp.Object)
	case err != nil:
		return nil, fmt.Errorf("registering node %s: %w", a.cfg.NodeName, err)
	}
	// Existing node: keep its spec (cordon, pod CIDR, taints), refresh
	// what the agent owns in status; Ready's transition time moves only
	// if it was not Ready.
	next := cur.DeepCopy()
	next.Status.Capacity, next.Status.Allocatable = want.Status.Capacity, want.Status.Allocatable
	next.Status.Addresses = want.Status.Addresses
	if rv := cur.Status.NodeInfo.ContainerRuntimeVersion; rv != "" {
		want.Status.NodeInfo.ContainerRuntimeVersion = rv // kept until the runtime answers again
	}
	next.Status.NodeInfo = want.Status.NodeInfo
	next.Status.Conditions, _ = withReady(next.Status.Conditions, ready)
	data, _ := json.Marshal(next)
	resp, err := a.cfg.Client.Do(ctx, api.VerbStatus, &api.Request{Object: data})
	if err != nil {
		return nil, fmt.Errorf("updating node %s: %w", a.cfg.NodeName, err)
	}
	return decodeNode(resp.Object)
}

func (a *Agent) addresses() []corev1.NodeAddress {
	out := []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: a.cfg.NodeName}}
	if a.cfg.NodeIP != "" {
		out = append([]corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: a.cfg.NodeIP}}, out...)
	}
	return out
}

func getNode(ctx context.Context, c *api.Client, name string) (*corev1.Node, error) {
	resp, err := c.Do(ctx, api.VerbGet, &api.Request{Resource: "nodes", Name: name})
	if err != nil {
		return nil, err
	}
	return decodeNode(resp.Object)
}

func decodeNode(data []byte) (*corev1.Node, error) {
	var n corev1.Node
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("decoding node: %w", err)
	}
	return &n, nil
}

// waitForPodCIDR polls until the control plane assigns the node a pod CIDR.
func (a *Agent) waitForPodCIDR(ctx context.Context) (*corev1.Node, error) {
	for {
		n, err := getNode(ctx, a.cfg.Client, a.cfg.NodeName)
		if err == nil && n.Spec.PodCIDR != "" {
			return n, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// heartbeat renews the node's lease in the KV bucket. Heartbeats are not
// desired state: they never touch the event log.
func (a *Agent) heartbeat(ctx context.Context) {
	js, err := jetstream.New(a.cfg.Conn)
	if err != nil {
		a.log.Error("heartbeat: JetStream", zap.Error(err))
		return
	}
	var kv jetstream.KeyValue
	for kv == nil {
		if kv, err = js.KeyValue(ctx, events.LeaseBucket); err != nil {
			if ctx.Err() != nil {
				return
			}
			a.log.Warn("heartbeat: opening lease bucket", zap.Error(err))
			time.Sleep(time.Second)
		}
	}
	beat := func() {
		data, _ := json.Marshal(events.Heartbeat{Time: a.cfg.Clock.Now().UTC(), Version: a.cfg.Version})
		if _, err := kv.Put(ctx, events.LeaseKey(a.cfg.NodeName), data); err != nil && ctx.Err() == nil {
			a.log.Warn("heartbeat", zap.Error(err))
		}
	}
	beat()
	t := time.NewTicker(a.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			beat()
		}
	}
}
