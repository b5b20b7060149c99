package agent

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
)

// Hollow is a pod manager without containers: it reports every pod bound
// to its node Running and Ready at once, and confirms deletions. Thousands
// of hollow nodes run in one process to measure the control plane at
// scale, as Kubernetes' kubemark does.
//
// A pod that restarts Always runs until deleted. A pod whose restartPolicy
// is Never or OnFailure runs for a simulated time and then exits, as a
// kubelet would report it (container state terminated with the exit code
// and finish time, Ready false), driven by two annotations:
//
//   - strom.dev/hollow-run-for: how long it runs (a Go duration, default
//     0: it exits right after it is reported Running);
//   - strom.dev/hollow-exit-code: its exit code (default 0).
//
// Exit code 0 makes the pod Succeeded. Any other code makes a Never pod
// Failed; an OnFailure pod is restarted in place instead (its restartCount
// grows, lastState holds the exit) every run-for, until it is deleted.
type Hollow struct {
	status *Status
	clock  clock.PassiveClock
	work   chan *corev1.Pod

	mu      sync.Mutex         // guards started, stopped
	started map[types.UID]bool // pods whose run is simulated (or done)
	stopped map[types.UID]bool // removed while running
}

// Annotations that drive a hollow pod's run (see Hollow).
const (
	HollowRunForAnnotation   = "strom.dev/hollow-run-for"
	HollowExitCodeAnnotation = "strom.dev/hollow-exit-code"
)

// maxHollowRestarts bounds the in-place restarts of a failing OnFailure
// pod nobody deletes.
const maxHollowRestarts = 100

// NewHollow returns a hollow pod manager.
func NewHollow(s *Status, clk clock.PassiveClock) *Hollow {
	return &Hollow{status: s, clock: clk, work: make(chan *corev1.Pod, 1024),
		started: map[types.UID]bool{}, stopped: map[types.UID]bool{}}
}

// Sync reports every pod.
func (h *Hollow) Sync(ctx context.Context, pods []*corev1.Pod) {
	for _, p := range pods {
		h.Update(ctx, p)
	}
}

// Update queues a pod to report.
func (h *Hollow) Update(ctx context.Context, pod *corev1.Pod) {
	select {
	case h.work <- pod:
	case <-ctx.Done():
	}
}

// Remove stops a simulated run.
func (h *Hollow) Remove(_ context.Context, uid types.UID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started[uid] {
		h.stopped[uid] = true
	}
}

// Run reports queued pods until ctx ends.
func (h *Hollow) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case p := <-h.work:
			if err := h.report(ctx, p); err != nil && ctx.Err() == nil {
				// The next resync retries: level-based.
				continue
			}
		}
	}
}

func (h *Hollow) report(ctx context.Context, p *corev1.Pod) error {
	if p.DeletionTimestamp != nil {
		return h.status.PodTerminated(ctx, p)
	}
	switch p.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed:
		return nil
	case corev1.PodRunning:
		h.startRun(ctx, p)
		return nil
	}
	now := metav1.NewTime(h.clock.Now().UTC().Truncate(time.Second))
	next := p.DeepCopy()
	next.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fakeIP(p.UID), StartTime: &now, HostIP: "",
		PodIPs: []corev1.PodIP{{IP: fakeIP(p.UID)}}}
	for _, t := range []corev1.PodConditionType{corev1.PodScheduled, corev1.PodInitialized, corev1.ContainersReady, corev1.PodReady} {
		next.Status.Conditions = append(next.Status.Conditions, corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: now})
	}
	for _, c := range p.Spec.Containers {
		started := true
		next.Status.ContainerStatuses = append(next.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: true, Started: &started,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	if err := h.status.UpdatePodStatus(ctx, next); err != nil {
		return err
	}
	h.startRun(ctx, next)
	return nil
}

// startRun simulates the run of a pod that exits (restartPolicy Never or
// OnFailure), once per pod.
func (h *Hollow) startRun(ctx context.Context, running *corev1.Pod) {
	if running.Spec.RestartPolicy != corev1.RestartPolicyNever && running.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return
	}
	h.mu.Lock()
	if h.started[running.UID] {
		h.mu.Unlock()
		return
	}
	h.started[running.UID] = true
	h.mu.Unlock()
	runFor, _ := time.ParseDuration(running.Annotations[HollowRunForAnnotation])
	code, _ := strconv.Atoi(running.Annotations[HollowExitCodeAnnotation])
	go h.run(ctx, running.DeepCopy(), max(runFor, 0), int32(code))
}

// run waits out each simulated run and reports the exit: the pod's end,
// or an OnFailure pod's in-place restart.
func (h *Hollow) run(ctx context.Context, p *corev1.Pod, runFor time.Duration, code int32) {
	t := time.NewTimer(runFor)
	defer t.Stop()
	for restarts := 0; ; restarts++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		h.mu.Lock()
		stopped := h.stopped[p.UID]
		delete(h.stopped, p.UID)
		h.mu.Unlock()
		if stopped {
			return
		}
		restart := code != 0 && p.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
		exited(p, code, restart, metav1.NewTime(h.clock.Now().UTC()))
		// A lost write is not retried: the simulation has no level to
		// return to, and a test sees the pod stuck.
		_ = h.status.UpdatePodStatus(ctx, p)
		if !restart || restarts >= maxHollowRestarts {
			return
		}
		t.Reset(runFor)
	}
}

// exited records a container exit in p's status as a kubelet does: the
// pod finishes (Succeeded on 0, else Failed), or, restarted in place, its
// containers count a restart and keep the exit as lastState.
func exited(p *corev1.Pod, code int32, restart bool, now metav1.Time) {
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	for i := range p.Status.ContainerStatuses {
		cs := &p.Status.ContainerStatuses[i]
		started := now
		if cs.State.Running != nil {
			started = cs.State.Running.StartedAt
		}
		term := corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: now}
		if restart {
			cs.RestartCount++
			cs.LastTerminationState = corev1.ContainerState{Terminated: &term}
			cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
			continue
		}
		cs.Ready, cs.Started = false, new(bool)
		cs.State = corev1.ContainerState{Terminated: &term}
	}
	if restart {
		return
	}
	p.Status.Phase = corev1.PodSucceeded
	if code != 0 {
		p.Status.Phase = corev1.PodFailed
	}
	for i := range p.Status.Conditions {
		c := &p.Status.Conditions[i]
		if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			c.Status, c.Reason, c.LastTransitionTime = corev1.ConditionFalse, "PodCompleted", now
		}
	}
}

// fakeIP derives a stable address in 10.244.0.0/16 from the pod uid.
func fakeIP(uid types.UID) string {
	f := fnv.New32a()
	f.Write([]byte(uid))
	v := f.Sum32()
	return fmt.Sprintf("10.244.%d.%d", (v>>8)&0xff, v&0xff|1)
}
