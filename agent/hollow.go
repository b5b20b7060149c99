package agent

import (
	"context"
	"fmt"
	"hash/fnv"
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
type Hollow struct {
	status *Status
	clock  clock.PassiveClock
	work   chan *corev1.Pod
}

// NewHollow returns a hollow pod manager.
func NewHollow(s *Status, clk clock.PassiveClock) *Hollow {
	return &Hollow{status: s, clock: clk, work: make(chan *corev1.Pod, 1024)}
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

// Remove has nothing to tear down.
func (h *Hollow) Remove(context.Context, types.UID) {}

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
	if p.Status.Phase == corev1.PodRunning {
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
	return h.status.UpdatePodStatus(ctx, next)
}

// fakeIP derives a stable address in 10.244.0.0/16 from the pod uid.
func fakeIP(uid types.UID) string {
	f := fnv.New32a()
	f.Write([]byte(uid))
	v := f.Sum32()
	return fmt.Sprintf("10.244.%d.%d", (v>>8)&0xff, v&0xff|1)
}
