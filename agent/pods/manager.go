package pods

import (
	"context"
	"sync"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/agent/volumes"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Manager runs one worker per pod of the node.
type Manager struct {
	cfg   Config
	rt    runtime.Runtime
	vols  *volumes.Manager
	log   *zap.Logger
	clock clock.PassiveClock

	netMu sync.Mutex // serialises Network calls

	mu sync.Mutex
	// desired is the latest pod object of every pod that should run here.
	desired map[types.UID]*corev1.Pod
	// terminated holds pods with deletionTimestamp already torn down and
	// reported with PodTerminated; they are not started again while the feed
	// still lists them.
	terminated map[types.UID]bool
	workers    map[types.UID]*worker
	runCtx     context.Context // set by Run
	// synced is set by the first Sync: only then is the desired set
	// complete enough to remove what is not in it.
	synced bool
	wg     sync.WaitGroup
}

// NewManager returns a Manager; call Run to start its workers.
func NewManager(cfg Config) *Manager {
	cfg.setDefaults()
	m := &Manager{
		cfg:        cfg,
		rt:         cfg.Runtime,
		log:        cfg.Logger,
		clock:      cfg.Clock,
		desired:    map[types.UID]*corev1.Pod{},
		terminated: map[types.UID]bool{},
		workers:    map[types.UID]*worker{},
	}
	m.vols = volumes.New(cfg.RootDir, cfg.Objects, cfg.Logger, cfg.Clock)
	return m
}

// Sync replaces the desired set with pods (the full set bound to this node).
// Pods not in the set are stopped and removed; containers, sandboxes and
// volumes of unknown pods found in the runtime are cleaned up.
func (m *Manager) Sync(ctx context.Context, pods []*corev1.Pod) {
	m.mu.Lock()
	next := make(map[types.UID]*corev1.Pod, len(pods))
	for _, p := range pods {
		if p == nil || p.UID == "" {
			continue
		}
		next[p.UID] = p.DeepCopy()
	}
	for uid := range m.terminated {
		if _, ok := next[uid]; !ok {
			delete(m.terminated, uid)
		}
	}
	m.desired = next
	m.synced = true
	for uid := range next {
		m.ensureWorkerLocked(uid)
	}
	for _, w := range m.workers {
		w.poke()
	}
	running := m.runCtx != nil
	m.mu.Unlock()
	if running {
		m.cleanupOrphans(ctx)
	}
}

// Update records a new version of one pod.
func (m *Manager) Update(ctx context.Context, pod *corev1.Pod) {
	if pod == nil || pod.UID == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.desired[pod.UID] = pod.DeepCopy()
	m.ensureWorkerLocked(pod.UID)
}

// Remove forgets a pod: its worker stops and removes its containers,
// network, sandbox and volumes (without PodTerminated).
func (m *Manager) Remove(ctx context.Context, uid types.UID) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.desired, uid)
	delete(m.terminated, uid)
	if w, ok := m.workers[uid]; ok {
		w.poke()
	}
}

// Run starts the workers of the known pods and the cleanup of unknown ones,
// and blocks until ctx ends. Containers keep running when it returns.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	m.runCtx = ctx
	for uid := range m.desired {
		m.ensureWorkerLocked(uid)
	}
	synced := m.synced
	m.mu.Unlock()
	if synced {
		m.cleanupOrphans(ctx)
	}
	<-ctx.Done()
	m.wg.Wait()
	m.mu.Lock()
	m.runCtx = nil
	m.workers = map[types.UID]*worker{}
	m.mu.Unlock()
	return nil
}

// ensureWorkerLocked starts a worker for uid if Run is active and none
// runs. m.mu must be held.
func (m *Manager) ensureWorkerLocked(uid types.UID) {
	if w, ok := m.workers[uid]; ok {
		w.poke()
		return
	}
	if m.runCtx == nil || m.runCtx.Err() != nil || m.terminated[uid] {
		return
	}
	m.startWorkerLocked(uid)
}

// lookup returns the desired pod of uid.
func (m *Manager) lookup(uid types.UID) (*corev1.Pod, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.desired[uid]
	return p, ok
}

// workerDone unregisters a worker that finished; terminatedPod marks a pod
// reported with PodTerminated. A pod that became desired again meanwhile
// gets a new worker.
func (m *Manager) workerDone(uid types.UID, terminatedPod bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.workers, uid)
	if terminatedPod {
		if _, ok := m.desired[uid]; ok {
			m.terminated[uid] = true
		}
	}
	if _, ok := m.desired[uid]; ok {
		m.ensureWorkerLocked(uid)
	}
}

// cleanupOrphans starts a cleanup worker for every pod UID that the
// runtime or the volume directory knows but that is neither desired nor
// handled by a worker.
func (m *Manager) cleanupOrphans(ctx context.Context) {
	uids := map[string]bool{}
	ctrs, err := m.rt.ListContainers(ctx, nil)
	if err != nil {
		m.log.Warn("listing containers for orphan cleanup", zap.Error(err))
	}
	for _, c := range ctrs {
		if c.PodUID != "" {
			uids[c.PodUID] = true
		}
	}
	sbs, err := m.rt.ListSandboxes(ctx)
	if err != nil {
		m.log.Warn("listing sandboxes for orphan cleanup", zap.Error(err))
	}
	for _, sb := range sbs {
		uids[sb.PodUID] = true
	}
	vuids, err := m.vols.PodUIDs()
	if err != nil {
		m.log.Warn("listing volume dirs for orphan cleanup", zap.Error(err))
	}
	for _, u := range vuids {
		uids[u] = true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.runCtx == nil || !m.synced {
		return
	}
	for u := range uids {
		uid := types.UID(u)
		if _, ok := m.desired[uid]; ok {
			continue
		}
		if _, ok := m.workers[uid]; ok {
			continue
		}
		m.log.Info("cleaning up pod unknown to the control plane", zap.String("uid", u))
		m.startWorkerLocked(uid)
	}
}

// netSetup and netTeardown serialise the calls into Network: libcni's
// CNIConfig (under agent/network) is not safe for concurrent use (its lazy
// exec setup races), and pod workers run concurrently.
func (m *Manager) netSetup(ctx context.Context, podUID, netnsPath string, ports []PortMapping) (string, error) {
	m.netMu.Lock()
	defer m.netMu.Unlock()
	return m.cfg.Network.Setup(ctx, podUID, netnsPath, ports)
}

func (m *Manager) netTeardown(ctx context.Context, podUID, netnsPath string) error {
	m.netMu.Lock()
	defer m.netMu.Unlock()
	return m.cfg.Network.Teardown(ctx, podUID, netnsPath)
}

// startWorkerLocked starts and records the worker of pod uid. Lock mu.
func (m *Manager) startWorkerLocked(uid types.UID) {
	w := newWorker(m, uid)
	m.workers[uid] = w
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		w.run(m.runCtx)
	}()
}
