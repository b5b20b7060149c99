package pods

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/strom-project/strom/agent/runtime"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
)

// worker runs the level-based loop of one pod. Its fields are only touched
// by its own goroutine, except wake (poke) and the probe results (probeSet
// has its own lock).
type worker struct {
	m    *Manager
	uid  types.UID
	log  *zap.Logger
	wake chan struct{}

	lastPod   *corev1.Pod // last desired version seen
	backoff   *backoff
	failed    map[string]startFailure // container ID -> failed start
	imageIDs  map[string]string       // image reference -> digest
	probes    *probeSet
	written   *corev1.PodStatus // last status written
	startTime time.Time
	lastWait  map[string]waitState // for event de-duplication
	lastSbErr string               // last sandbox error reported
	released  bool                 // network of a finished pod torn down
	watching  map[string]bool      // container IDs with an exit watcher
}

func newWorker(m *Manager, uid types.UID) *worker {
	w := &worker{
		m:        m,
		uid:      uid,
		log:      m.log.With(zap.String("pod-uid", string(uid))),
		wake:     make(chan struct{}, 1),
		backoff:  newBackoff(m.cfg.BackoffInitial, m.cfg.BackoffMax, m.cfg.BackoffReset),
		failed:   map[string]startFailure{},
		imageIDs: map[string]string{},
		lastWait: map[string]waitState{},
		watching: map[string]bool{},
	}
	w.probes = newProbeSet(w.poke)
	return w
}

// poke wakes the worker; it never blocks.
func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

func (w *worker) run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	defer w.probes.stopAll()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-timer.C:
		}
		next, done, terminatedPod := w.step(ctx)
		if done {
			w.m.workerDone(w.uid, terminatedPod)
			return
		}
		wait := w.m.cfg.SyncPeriod
		if !next.IsZero() {
			if d := next.Sub(w.m.clock.Now()); d < wait {
				wait = d
			}
		}
		if wait < 10*time.Millisecond {
			wait = 10 * time.Millisecond
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// step does one round: cleanup if the pod is gone or being deleted, sync
// otherwise. It returns when to look again, and whether the worker is done.
func (w *worker) step(ctx context.Context) (next time.Time, done, terminatedPod bool) {
	pod, ok := w.m.lookup(w.uid)
	switch {
	case !ok:
		if err := w.teardown(ctx, w.lastPod); err != nil {
			w.log.Warn("cleaning up removed pod", zap.Error(err))
			return time.Time{}, false, false
		}
		return time.Time{}, true, false
	case pod.DeletionTimestamp != nil:
		w.lastPod = pod
		if err := w.teardown(ctx, pod); err != nil {
			w.log.Warn("terminating pod", zap.Error(err))
			return time.Time{}, false, false
		}
		if err := w.m.cfg.Status.PodTerminated(ctx, pod); err != nil {
			w.log.Warn("reporting pod terminated", zap.Error(err))
			return time.Time{}, false, false
		}
		return time.Time{}, true, true
	}
	w.lastPod = pod
	return w.sync(ctx, pod), false, false
}

// sync converges one pod and reports its status; it returns when a
// back-off ends (zero if none).
func (w *worker) sync(ctx context.Context, pod *corev1.Pod) time.Time {
	now := w.m.clock.Now()
	if w.startTime.IsZero() {
		w.startTime = now
		if pod.Status.StartTime != nil {
			w.startTime = pod.Status.StartTime.Time
		}
	}
	terminal := w.terminal(pod)
	paths, volErrs := w.m.vols.Setup(ctx, pod)
	var sb runtime.Sandbox
	var sbErr error
	if terminal {
		// Nothing runs again: keep the sandbox (it holds the logs) but
		// give the pod IP back.
		sb, sbErr = w.releaseNetwork(ctx)
	} else {
		sb, sbErr = w.ensureSandbox(ctx, pod)
	}
	st, err := w.observe(ctx)
	if err != nil {
		w.log.Warn("listing containers", zap.Error(err))
		return time.Time{}
	}
	in := decideInput{Pod: pod, State: st, Backoff: w.backoff, Terminal: terminal, Now: now}
	if sbErr == nil {
		w.ensureProbes(ctx, pod, st, w.target(sb))
		in.Unhealthy = w.probes.unhealthy()
	}
	d := decide(in)
	waiting := d.Waiting
	if sbErr != nil {
		if msg := sbErr.Error(); msg != w.lastSbErr {
			w.event(pod, corev1.EventTypeWarning, "FailedCreatePodSandBox", "Failed to create pod sandbox: "+msg)
			w.lastSbErr = msg
		}
		d.Actions = nil
	} else {
		w.lastSbErr = ""
	}
	if len(d.Actions) > 0 {
		sc := startContext{pod: pod, sb: sb, paths: paths, volErrs: volErrs, waiting: waiting}
		for _, a := range d.Actions {
			w.act(ctx, sc, a)
		}
		if st, err = w.observe(ctx); err != nil {
			w.log.Warn("listing containers", zap.Error(err))
			return time.Time{}
		}
		// A run created this round may have replaced an init container
		// that completed, or finished the init sequence.
		d2 := decide(decideInput{Pod: pod, State: st, Backoff: w.backoff, Terminal: terminal, Now: w.m.clock.Now()})
		d.InitDone, d.InitFailed = d2.InitDone, d2.InitFailed
		if !d2.Wake.IsZero() && (d.Wake.IsZero() || d2.Wake.Before(d.Wake)) {
			d.Wake = d2.Wake
		}
		for k, v := range d2.Waiting {
			waiting[k] = v
		}
	}
	w.fillImageIDs(ctx, pod, st)
	w.watchExits(ctx, st)
	w.gc(ctx, pod, st)
	w.emitWaitingEvents(pod, waiting)
	podIP := sb.IP
	if podIP == "" && terminal {
		podIP = w.prevStatus(pod).PodIP
	}
	status := computeStatus(statusInput{
		Pod: pod, State: st, Decision: d, Waiting: waiting, Probes: w.probes.view,
		PodIP: podIP, HostIP: w.m.cfg.NodeIP, ImageIDs: w.imageIDs,
		Prev: w.prevStatus(pod), Start: w.startTime, Now: w.m.clock.Now(),
	})
	w.writeStatus(ctx, pod, status)
	return d.Wake
}

// terminal tells whether the pod already reached Succeeded or Failed.
func (w *worker) terminal(pod *corev1.Pod) bool {
	done := func(p corev1.PodPhase) bool { return p == corev1.PodSucceeded || p == corev1.PodFailed }
	if w.written != nil && done(w.written.Phase) {
		return true
	}
	return done(pod.Status.Phase)
}

func (w *worker) prevStatus(pod *corev1.Pod) corev1.PodStatus {
	if w.written != nil {
		return *w.written
	}
	return pod.Status
}

// writeStatus writes the status when it differs from the last one written.
func (w *worker) writeStatus(ctx context.Context, pod *corev1.Pod, status corev1.PodStatus) {
	if w.written != nil && statusEqual(*w.written, status) {
		return
	}
	if w.written == nil && statusEqual(pod.Status, status) {
		w.written = &status
		return
	}
	p := pod.DeepCopy()
	p.Status = status
	if err := w.m.cfg.Status.UpdatePodStatus(ctx, p); err != nil {
		w.log.Warn("writing pod status", zap.Error(err))
		return
	}
	w.written = &status
}

// statusEqual compares statuses semantically (times by instant).
func statusEqual(a, b corev1.PodStatus) bool { return equality.Semantic.DeepEqual(a, b) }

// ensureSandbox creates the sandbox and attaches its network.
func (w *worker) ensureSandbox(ctx context.Context, pod *corev1.Pod) (runtime.Sandbox, error) {
	cfg, err := sandboxConfig(pod, w.m.cfg.DNS, func() (runtime.DNSConfig, error) {
		return readResolvConf(w.m.cfg.HostResolvConf)
	})
	if err != nil {
		return runtime.Sandbox{}, err
	}
	sb, err := w.m.rt.CreateSandbox(ctx, cfg)
	if err != nil {
		return runtime.Sandbox{}, err
	}
	if sb.IP != "" {
		return sb, nil
	}
	// A sandbox without IP is new. If the network still holds an
	// attachment for the pod, it belongs to a namespace that is gone (the
	// machine restarted): release it first, or Setup answers with the stale
	// IP without configuring the new namespace.
	if c, ok := w.m.cfg.Network.(cachedIPer); ok {
		if old, found := c.PodIP(string(pod.UID)); found {
			w.log.Info("releasing the stale network attachment of a recreated sandbox", zap.String("ip", old))
			if err := w.m.netTeardown(ctx, string(pod.UID), sb.NetNSPath); err != nil {
				return sb, err
			}
		}
	}
	ip, err := w.m.netSetup(ctx, string(pod.UID), sb.NetNSPath, hostPorts(pod))
	if err != nil {
		return sb, err
	}
	w.log.Info("pod network set up", zap.String("netns", sb.NetNSPath), zap.String("ip", ip))
	return w.m.rt.SetSandboxIP(ctx, string(pod.UID), ip)
}

// releaseNetwork tears down the network of a pod that finished, once.
func (w *worker) releaseNetwork(ctx context.Context) (runtime.Sandbox, error) {
	sb, err := w.m.rt.Sandbox(ctx, string(w.uid))
	if errors.Is(err, runtime.ErrNotFound) {
		return sb, nil // gone (e.g. after a reboot): nothing to release
	}
	if err != nil || w.released {
		return sb, err
	}
	if err := w.m.netTeardown(ctx, string(w.uid), sb.NetNSPath); err != nil {
		return sb, fmt.Errorf("releasing the network of a finished pod: %w", err)
	}
	w.released = true
	return sb, nil
}

// observe reads the pod's containers from the runtime.
func (w *worker) observe(ctx context.Context) (podState, error) {
	ctrs, err := w.m.rt.ListContainers(ctx, map[string]string{runtime.LabelPodUID: string(w.uid)})
	if err != nil {
		return nil, err
	}
	return buildState(ctrs, w.failed), nil
}

// fillImageIDs learns the digests of images of adopted runs (created by an
// earlier agent), without pulling.
func (w *worker) fillImageIDs(ctx context.Context, pod *corev1.Pod, st podState) {
	for _, cs := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range cs {
			if _, ok := w.imageIDs[c.Image]; ok || st.latest(c.Name) == nil {
				continue
			}
			if img, err := w.m.rt.EnsureImage(ctx, c.Image, runtime.PullNever, nil); err == nil {
				w.imageIDs[c.Image] = img.Digest
			}
		}
	}
}

// watchExits wakes the worker when a running container exits.
func (w *worker) watchExits(ctx context.Context, st podState) {
	for _, runs := range st {
		for _, r := range runs {
			if !r.running() || w.watching[r.ID] {
				continue
			}
			w.watching[r.ID] = true
			go func(id string) {
				_, _ = w.m.rt.WaitContainer(ctx, id)
				w.poke()
			}(r.ID)
		}
	}
}

// gc removes runs older than the previous one of each container, and the
// runs of containers no longer in the spec.
func (w *worker) gc(ctx context.Context, pod *corev1.Pod, st podState) {
	inSpec := map[string]bool{}
	for _, c := range pod.Spec.InitContainers {
		inSpec[c.Name] = true
	}
	for _, c := range pod.Spec.Containers {
		inSpec[c.Name] = true
	}
	for name, runs := range st {
		for i, r := range runs {
			keep := inSpec[name] && i >= len(runs)-2
			if keep {
				continue
			}
			if r.running() {
				if err := w.m.rt.StopContainer(ctx, r.ID, gracePeriod(pod)); err != nil {
					w.log.Warn("stopping container", zap.String("id", r.ID), zap.Error(err))
					continue
				}
			}
			if err := w.m.rt.RemoveContainer(ctx, r.ID); err != nil {
				w.log.Warn("removing old container", zap.String("id", r.ID), zap.Error(err))
				continue
			}
			delete(w.failed, r.ID)
			delete(w.watching, r.ID)
		}
	}
}

// event records an event about the pod.
func (w *worker) event(pod *corev1.Pod, typ, reason, msg string) {
	if pod == nil {
		return
	}
	w.m.cfg.Status.Event(context.Background(), pod, typ, reason, msg)
}

// emitWaitingEvents reports BackOff and pull back-off when a container
// enters that state.
func (w *worker) emitWaitingEvents(pod *corev1.Pod, waiting map[string]waitState) {
	for name, ws := range waiting {
		if w.lastWait[name].Reason == ws.Reason {
			continue
		}
		switch ws.Reason {
		case "CrashLoopBackOff":
			w.event(pod, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container "+name+" in pod "+pod.Name+"_"+pod.Namespace+"("+string(pod.UID)+")")
		case "ImagePullBackOff":
			w.event(pod, corev1.EventTypeNormal, "BackOff", ws.Message)
		}
	}
	w.lastWait = waiting
}
