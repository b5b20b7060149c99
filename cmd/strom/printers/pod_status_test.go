package printers

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// TestPodStatusCases checks STATUS, READY and RESTARTS for situations the
// golden table does not show, each against what kubectl prints.
func TestPodStatusCases(t *testing.T) {
	sidecar := corev1.ContainerRestartPolicyAlways
	cases := []struct {
		name                    string
		pod                     corev1.Pod
		status, ready, restarts string
	}{
		{
			name: "phase reason wins when containers say nothing",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted"}},
			status: "Evicted", ready: "0/1", restarts: "0",
		},
		{
			name: "scheduling gated",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{
					{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated}}}},
			status: "SchedulingGated", ready: "0/1", restarts: "0",
		},
		{
			name: "init container killed by signal",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "i", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137, Signal: 9}}}}}},
			status: "Init:Signal:9", ready: "0/1", restarts: "0",
		},
		{
			name: "init container failed with exit code",
			pod: corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("i"), Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodPending, InitContainerStatuses: []corev1.ContainerStatus{
					{Name: "i", State: terminated("", 3, time.Minute)}}}},
			status: "Init:ExitCode:3", ready: "0/1", restarts: "0",
		},
		{
			name: "started sidecar counts as a container and as ready",
			pod: func() corev1.Pod {
				p := corev1.Pod{Spec: corev1.PodSpec{InitContainers: containers("proxy"), Containers: containers("a")}}
				p.Spec.InitContainers[0].RestartPolicy = &sidecar
				p.Status = corev1.PodStatus{Phase: corev1.PodRunning,
					InitContainerStatuses: []corev1.ContainerStatus{{Name: "proxy", Started: ptr(true), Ready: true, State: running(time.Hour), RestartCount: 1,
						LastTerminationState: terminated("Error", 1, 10*time.Minute)}},
					ContainerStatuses: []corev1.ContainerStatus{{Name: "a", Ready: true, State: running(time.Hour)}}}
				return p
			}(),
			status: "Running", ready: "2/2", restarts: "1 (10m ago)",
		},
		{
			name: "completed container beside a running one, pod not ready",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a", "b")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "a", Ready: true, State: running(time.Hour)},
					{Name: "b", State: terminated("Completed", 0, time.Minute)}}}},
			status: "NotReady", ready: "1/2", restarts: "0",
		},
		{
			name: "deleted pod on a lost node is Unknown",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, Reason: "NodeLost"}},
			status: "Unknown", ready: "0/1", restarts: "0",
		},
		{
			name: "deleted pod that already finished keeps its status",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "a", State: terminated("Completed", 0, time.Minute)}}}},
			status: "Completed", ready: "0/1", restarts: "0",
		},
		{
			name: "restarts without a termination time show no age",
			pod: corev1.Pod{Spec: corev1.PodSpec{Containers: containers("a")},
				Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
					{Name: "a", Ready: true, State: running(time.Hour), RestartCount: 4}}}},
			status: "Running", ready: "1/1", restarts: "4",
		},
	}
	for _, c := range cases {
		p := c.pod
		if c.name == "deleted pod on a lost node is Unknown" || c.name == "deleted pod that already finished keeps its status" {
			p.DeletionTimestamp = agoPtr(time.Minute)
		}
		p.Name, p.CreationTimestamp = "p", ago(time.Hour)
		row := podRow(&p, now)
		if row[2] != c.status || row[1] != c.ready || row[3] != c.restarts {
			t.Errorf("%s: got READY %q STATUS %q RESTARTS %q, want %q %q %q", c.name, row[1], row[2], row[3], c.ready, c.status, c.restarts)
		}
	}
}

func TestAgeMatchesKubectl(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{45 * time.Second, "45s"}, {119 * time.Second, "119s"}, {5*time.Minute + 30*time.Second, "5m30s"},
		{10 * time.Minute, "10m"}, {179 * time.Minute, "179m"}, {3*time.Hour + 15*time.Minute, "3h15m"},
		{47 * time.Hour, "47h"}, {50 * time.Hour, "2d2h"}, {400 * 24 * time.Hour, "400d"}, {3 * 365 * 24 * time.Hour, "3y"},
	} {
		if got := age(ago(c.d), now); got != c.want {
			t.Errorf("age(%v) = %q, want %q", c.d, got, c.want)
		}
	}
	if got := age(ago(0).Rfc3339Copy(), now.Add(-time.Hour)); got != "<invalid>" {
		t.Errorf("a time an hour in the future: got %q, want <invalid>", got)
	}
}
