package printers

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var podColumns = cols("NAME", "READY", "STATUS", "RESTARTS", "AGE",
	"*IP", "*NODE", "*NOMINATED NODE", "*READINESS GATES")

func podRow(p *corev1.Pod, now time.Time) []string {
	s := summarizePod(p)
	restarts := strconv.Itoa(s.restarts)
	if s.restarts != 0 && !s.lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", s.restarts, age(s.lastRestart, now))
	}
	ip := ""
	if len(p.Status.PodIPs) > 0 {
		ip = p.Status.PodIPs[0].IP
	}
	if ip == "" {
		ip = p.Status.PodIP
	}
	return []string{
		p.Name, fmt.Sprintf("%d/%d", s.ready, s.total), s.status, restarts, age(p.CreationTimestamp, now),
		orNone(ip), orNone(p.Spec.NodeName), orNone(p.Status.NominatedNodeName), readinessGates(p),
	}
}

// podSummary is what the pod table shows about a pod's containers.
type podSummary struct {
	ready, total int
	status       string
	restarts     int
	lastRestart  metav1.Time
}

func isSidecar(c *corev1.Container) bool {
	return c != nil && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
}

// summarizePod computes READY, STATUS and RESTARTS the way kubectl does:
// the first failing or waiting init container decides the status
// ("Init:1/2", "Init:CrashLoopBackOff"); after initialization the last
// container with a waiting or terminated reason does ("CrashLoopBackOff",
// "Completed", "ExitCode:1"); a pod being deleted is "Terminating".
func summarizePod(p *corev1.Pod) podSummary {
	s := podSummary{total: len(p.Spec.Containers), status: string(p.Status.Phase)}
	if p.Status.Reason != "" {
		s.status = p.Status.Reason
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Reason == corev1.PodReasonSchedulingGated {
			s.status = corev1.PodReasonSchedulingGated
		}
	}
	inits := map[string]*corev1.Container{}
	for i := range p.Spec.InitContainers {
		c := &p.Spec.InitContainers[i]
		inits[c.Name] = c
		if isSidecar(c) {
			s.total++
		}
	}

	var sidecarRestarts int
	var sidecarLast metav1.Time
	initializing := false
	for i, cs := range p.Status.InitContainerStatuses {
		s.restarts += int(cs.RestartCount)
		if t := cs.LastTerminationState.Terminated; t != nil && s.lastRestart.Before(&t.FinishedAt) {
			s.lastRestart = t.FinishedAt
		}
		sidecar := isSidecar(inits[cs.Name])
		if sidecar {
			sidecarRestarts += int(cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil && sidecarLast.Before(&t.FinishedAt) {
				sidecarLast = t.FinishedAt
			}
		}
		switch {
		case cs.State.Terminated != nil && cs.State.Terminated.ExitCode == 0:
			continue
		case sidecar && cs.Started != nil && *cs.Started:
			if cs.Ready {
				s.ready++
			}
			continue
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			switch {
			case t.Reason != "":
				s.status = "Init:" + t.Reason
			case t.Signal != 0:
				s.status = fmt.Sprintf("Init:Signal:%d", t.Signal)
			default:
				s.status = fmt.Sprintf("Init:ExitCode:%d", t.ExitCode)
			}
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "" && cs.State.Waiting.Reason != "PodInitializing":
			s.status = "Init:" + cs.State.Waiting.Reason
		default:
			s.status = fmt.Sprintf("Init:%d/%d", i, len(p.Spec.InitContainers))
		}
		initializing = true
		break
	}

	if !initializing || podConditionTrue(p, corev1.PodInitialized) {
		s.restarts = sidecarRestarts
		s.lastRestart = sidecarLast
		hasRunning := false
		for i := len(p.Status.ContainerStatuses) - 1; i >= 0; i-- {
			cs := p.Status.ContainerStatuses[i]
			s.restarts += int(cs.RestartCount)
			if t := cs.LastTerminationState.Terminated; t != nil && s.lastRestart.Before(&t.FinishedAt) {
				s.lastRestart = t.FinishedAt
			}
			switch {
			case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
				s.status = cs.State.Waiting.Reason
			case cs.State.Terminated != nil && cs.State.Terminated.Reason != "":
				s.status = cs.State.Terminated.Reason
			case cs.State.Terminated != nil && cs.State.Terminated.Signal != 0:
				s.status = fmt.Sprintf("Signal:%d", cs.State.Terminated.Signal)
			case cs.State.Terminated != nil:
				s.status = fmt.Sprintf("ExitCode:%d", cs.State.Terminated.ExitCode)
			case cs.Ready && cs.State.Running != nil:
				hasRunning = true
				s.ready++
			}
		}
		if s.status == "Completed" && hasRunning {
			if podConditionTrue(p, corev1.PodReady) {
				s.status = "Running"
			} else {
				s.status = "NotReady"
			}
		}
	}

	if p.DeletionTimestamp != nil {
		switch {
		case p.Status.Reason == "NodeLost":
			s.status = "Unknown"
		case p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed:
			s.status = "Terminating"
		}
	}
	return s
}

func podConditionTrue(p *corev1.Pod, t corev1.PodConditionType) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func readinessGates(p *corev1.Pod) string {
	if len(p.Spec.ReadinessGates) == 0 {
		return none
	}
	ready := 0
	for _, g := range p.Spec.ReadinessGates {
		if podConditionTrue(p, g.ConditionType) {
			ready++
		}
	}
	return fmt.Sprintf("%d/%d", ready, len(p.Spec.ReadinessGates))
}
