package pods

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// probeView tells, for a running container, whether it has started and is
// ready according to its startup and readiness probes.
type probeView func(c *corev1.Container, id string) (started, ready bool)

// statusInput is everything computeStatus looks at.
type statusInput struct {
	Pod      *corev1.Pod
	State    podState
	Decision decision
	// Waiting holds why containers that need a new run do not have one
	// (pull errors, config errors, back-off).
	Waiting  map[string]waitState
	Probes   probeView
	PodIP    string
	HostIP   string
	ImageIDs map[string]string // image reference -> digest
	Prev     corev1.PodStatus  // last status written, for transition times
	Start    time.Time
	Now      time.Time
}

// computeStatus derives the pod status. It is pure.
func computeStatus(in statusInput) corev1.PodStatus {
	pod := in.Pod
	st := corev1.PodStatus{
		HostIP: in.HostIP,
		PodIP:  in.PodIP,
	}
	if in.HostIP != "" {
		st.HostIPs = []corev1.HostIP{{IP: in.HostIP}}
	}
	if in.PodIP != "" {
		st.PodIPs = []corev1.PodIP{{IP: in.PodIP}}
	}
	start := metav1.NewTime(in.Start)
	st.StartTime = &start
	st.QOSClass = qosClass(pod)

	initDone := in.Decision.InitDone
	current := "" // the init container running or about to run
	for _, c := range pod.Spec.InitContainers {
		if l := in.State.latest(c.Name); !(l.exited() && l.ExitCode == 0) && !initDone {
			current = c.Name
			break
		}
	}
	seenCurrent := false
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		def := "PodInitializing"
		if c.Name == current {
			def, seenCurrent = "", true
		} else if !seenCurrent && current != "" {
			def = "" // before the current one: done
		}
		cs := containerStatus(in, c, def)
		cs.Ready = cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0
		st.InitContainerStatuses = append(st.InitContainerStatuses, cs)
	}
	allReady := len(pod.Spec.Containers) > 0
	for i := range pod.Spec.Containers {
		c := &pod.Spec.Containers[i]
		def := "ContainerCreating"
		if !initDone {
			def = "PodInitializing"
		}
		cs := containerStatus(in, c, def)
		if !cs.Ready {
			allReady = false
		}
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
	}

	st.Phase = podPhase(pod, in.Decision, st.ContainerStatuses)
	cond := func(t corev1.PodConditionType, ok bool, reason string) {
		s := corev1.ConditionFalse
		if ok {
			s = corev1.ConditionTrue
		}
		c := corev1.PodCondition{Type: t, Status: s, Reason: reason}
		c.LastTransitionTime = metav1.NewTime(in.Now)
		for _, p := range in.Prev.Conditions {
			if p.Type == t && p.Status == s {
				c.LastTransitionTime = p.LastTransitionTime
			}
		}
		for _, p := range pod.Status.Conditions {
			if t == corev1.PodScheduled && p.Type == t && p.Status == s {
				c.LastTransitionTime = p.LastTransitionTime
			}
		}
		st.Conditions = append(st.Conditions, c)
	}
	notReady := ""
	completed := st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed
	if !allReady {
		notReady = "ContainersNotReady"
	}
	if completed {
		notReady = "PodCompleted"
		allReady = false
	}
	initReason := ""
	if !initDone {
		initReason = "ContainersNotInitialized"
	}
	if completed && initDone {
		initReason = "PodCompleted"
	}
	cond(corev1.PodScheduled, true, "")
	cond(corev1.PodInitialized, initDone, initReason)
	cond(corev1.ContainersReady, allReady, notReady)
	cond(corev1.PodReady, allReady, notReady)
	return st
}

// containerStatus reports one container; def is the waiting reason when it
// has no run and no specific reason ("" for an init container already done).
func containerStatus(in statusInput, c *corev1.Container, def string) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: in.ImageIDs[c.Image]}
	last := in.State.latest(c.Name)
	w, waiting := in.Waiting[c.Name]
	if last != nil {
		cs.RestartCount = int32(last.Restart)
		cs.ContainerID = "containerd://" + last.ID
		if prev := in.State.previous(c.Name); prev != nil && prev.exited() {
			cs.LastTerminationState = corev1.ContainerState{Terminated: terminated(prev)}
		}
	}
	switch {
	case last.running():
		started, ready := true, true
		if in.Probes != nil {
			started, ready = in.Probes(c, last.ID)
		}
		cs.State.Running = &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(last.StartedAt)}
		cs.Started = &started
		cs.Ready = started && ready
	case last.exited() && waiting:
		// Waiting for its next run: the exited one is the last state.
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
		cs.LastTerminationState = corev1.ContainerState{Terminated: terminated(last)}
		cs.Started = new(bool)
	case last.exited():
		cs.State.Terminated = terminated(last)
		cs.Started = new(bool)
	case waiting:
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: w.Reason, Message: w.Message}
		cs.Started = new(bool)
	default:
		reason := def
		if last != nil || reason == "" {
			reason = "ContainerCreating"
		}
		cs.State.Waiting = &corev1.ContainerStateWaiting{Reason: reason}
		cs.Started = new(bool)
	}
	return cs
}

func terminated(i *instance) *corev1.ContainerStateTerminated {
	t := &corev1.ContainerStateTerminated{
		ExitCode:    int32(i.ExitCode),
		Reason:      i.Reason,
		Message:     i.Message,
		FinishedAt:  metav1.NewTime(i.FinishedAt),
		ContainerID: "containerd://" + i.ID,
	}
	if !i.StartedAt.IsZero() {
		t.StartedAt = metav1.NewTime(i.StartedAt)
	}
	return t
}

// podPhase applies kubelet's rules to the container statuses.
func podPhase(pod *corev1.Pod, d decision, statuses []corev1.ContainerStatus) corev1.PodPhase {
	if !d.InitDone {
		if d.InitFailed {
			return corev1.PodFailed
		}
		return corev1.PodPending
	}
	var running, waiting, stopped, succeeded int
	for _, cs := range statuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.State.Waiting != nil:
			if cs.LastTerminationState.Terminated != nil {
				stopped++
			} else {
				waiting++
			}
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case stopped > 0:
		switch pod.Spec.RestartPolicy {
		case corev1.RestartPolicyNever:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodFailed
		case corev1.RestartPolicyOnFailure:
			if stopped == succeeded {
				return corev1.PodSucceeded
			}
			return corev1.PodRunning
		default:
			return corev1.PodRunning
		}
	}
	return corev1.PodPending
}

// qosClass is BestEffort without requests or limits, Guaranteed when every
// container's CPU and memory limits are set and equal to its requests,
// Burstable otherwise.
func qosClass(pod *corev1.Pod) corev1.PodQOSClass {
	any, guaranteed := false, true
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if len(c.Resources.Requests) > 0 || len(c.Resources.Limits) > 0 {
			any = true
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			l, ok := c.Resources.Limits[r]
			if !ok {
				guaranteed = false
				continue
			}
			if q, ok := c.Resources.Requests[r]; ok && q.Cmp(l) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}
