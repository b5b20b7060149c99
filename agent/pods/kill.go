package pods

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/strom-project/strom/agent/probes"
	"github.com/strom-project/strom/agent/runtime"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
)

// minHookTime is the least time a container gets to stop after its preStop
// hook used up the grace period, as in kubelet.
const minHookTime = 2 * time.Second

func seconds(s int64) time.Duration { return time.Duration(s) * time.Second }

// gracePeriod is the pod's termination grace: deletionGracePeriodSeconds
// when being deleted, else terminationGracePeriodSeconds, else 30s.
func gracePeriod(pod *corev1.Pod) time.Duration {
	switch {
	case pod == nil:
		return 30 * time.Second
	case pod.DeletionGracePeriodSeconds != nil:
		return seconds(*pod.DeletionGracePeriodSeconds)
	case pod.Spec.TerminationGracePeriodSeconds != nil:
		return seconds(*pod.Spec.TerminationGracePeriodSeconds)
	}
	return 30 * time.Second
}

// killContainer runs the preStop hook (bounded by grace) and stops the
// container with what is left of grace (at least minHookTime after a hook).
func (w *worker) killContainer(ctx context.Context, pod *corev1.Pod, c *corev1.Container, id string, sb runtime.Sandbox, grace time.Duration) error {
	start := w.m.clock.Now()
	if c != nil && c.Lifecycle != nil && c.Lifecycle.PreStop != nil && grace > 0 {
		hctx, cancel := context.WithTimeout(ctx, grace)
		err := probes.RunHook(hctx, c.Lifecycle.PreStop, w.target(sb)(c, id))
		cancel()
		if err != nil {
			w.event(pod, corev1.EventTypeWarning, "FailedPreStopHook", err.Error())
		}
		grace -= w.m.clock.Now().Sub(start)
		if grace < minHookTime {
			grace = minHookTime
		}
	}
	if err := w.m.rt.StopContainer(ctx, id, grace); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return fmt.Errorf("stopping container %s: %w", id, err)
	}
	return nil
}

// teardown stops every container of the pod with its grace period (in
// parallel, preStop hooks first), reports the final status of a pod being
// deleted, and removes containers, network, sandbox and volumes. pod is nil
// for pods the agent knows nothing about.
func (w *worker) teardown(ctx context.Context, pod *corev1.Pod) error {
	uid := string(w.uid)
	ctrs, err := w.m.rt.ListContainers(ctx, map[string]string{runtime.LabelPodUID: uid})
	if err != nil {
		return fmt.Errorf("listing containers of pod %s: %w", uid, err)
	}
	sb, sbErr := w.m.rt.Sandbox(ctx, uid)
	if sbErr != nil && !errors.Is(sbErr, runtime.ErrNotFound) {
		return fmt.Errorf("reading sandbox of pod %s: %w", uid, sbErr)
	}
	grace := w.m.cfg.OrphanGracePeriod
	if pod != nil {
		grace = gracePeriod(pod)
	}
	w.probes.stopAll()
	var wg sync.WaitGroup
	errs := make([]error, len(ctrs))
	for i, c := range ctrs {
		if c.State != runtime.StateRunning {
			continue
		}
		var spec *corev1.Container
		if pod != nil {
			spec = findContainer(pod, c.Name)
			w.event(pod, corev1.EventTypeNormal, "Killing", "Stopping container "+c.Name)
		}
		wg.Add(1)
		go func(i int, id string) {
			defer wg.Done()
			errs[i] = w.killContainer(ctx, pod, spec, id, sb, grace)
		}(i, c.ID)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if pod != nil && pod.DeletionTimestamp != nil {
		w.writeFinalStatus(ctx, pod, sb)
	}
	for _, c := range ctrs {
		if err := w.m.rt.RemoveContainer(ctx, c.ID); err != nil {
			return fmt.Errorf("removing container %s: %w", c.ID, err)
		}
		delete(w.failed, c.ID)
	}
	if sbErr == nil {
		if err := w.m.netTeardown(ctx, uid, sb.NetNSPath); err != nil {
			return fmt.Errorf("tearing down network of pod %s: %w", uid, err)
		}
		if err := w.m.rt.RemoveSandbox(ctx, uid); err != nil {
			return fmt.Errorf("removing sandbox of pod %s: %w", uid, err)
		}
	}
	if err := w.m.vols.Teardown(uid); err != nil {
		return err
	}
	w.log.Info("pod cleaned up")
	return nil
}

// writeFinalStatus reports the pod with its containers terminated.
func (w *worker) writeFinalStatus(ctx context.Context, pod *corev1.Pod, sb runtime.Sandbox) {
	st, err := w.observe(ctx)
	if err != nil {
		w.log.Warn("listing containers for the final status", zap.Error(err))
		return
	}
	d := decide(decideInput{Pod: pod, State: st, Backoff: w.backoff, Terminal: true, Now: w.m.clock.Now()})
	status := computeStatus(statusInput{
		Pod: pod, State: st, Decision: d, Waiting: map[string]waitState{}, Probes: w.probes.view,
		PodIP: sb.IP, HostIP: w.m.cfg.NodeIP, ImageIDs: w.imageIDs,
		Prev: w.prevStatus(pod), Start: w.startOr(pod), Now: w.m.clock.Now(),
	})
	w.writeStatus(ctx, pod, status)
}

func (w *worker) startOr(pod *corev1.Pod) time.Time {
	switch {
	case !w.startTime.IsZero():
		return w.startTime
	case pod.Status.StartTime != nil:
		return pod.Status.StartTime.Time
	}
	return w.m.clock.Now()
}
