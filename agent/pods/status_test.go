package pods

import (
	"testing"
	"time"

	"github.com/strom-project/strom/agent/runtime"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestComputeStatusPhases(t *testing.T) {
	two := testPod("p", ctr("a", "img"), ctr("b", "img"))
	never := two.DeepCopy()
	never.Spec.RestartPolicy = corev1.RestartPolicyNever
	onFailure := two.DeepCopy()
	onFailure.Spec.RestartPolicy = corev1.RestartPolicyOnFailure
	running := run(0, runtime.StateRunning, 0, 0, 0)
	ok := run(0, runtime.StateExited, 0, 0, time.Second)
	bad := run(0, runtime.StateExited, 1, 0, time.Second)
	tests := []struct {
		name    string
		pod     *corev1.Pod
		state   podState
		waiting map[string]waitState
		phase   corev1.PodPhase
		ready   corev1.ConditionStatus
	}{
		{"nothing yet", two, podState{}, nil, corev1.PodPending, corev1.ConditionFalse},
		{"one waiting", two, podState{"a": {running}}, nil, corev1.PodPending, corev1.ConditionFalse},
		{"all running", two, podState{"a": {running}, "b": {running}}, nil, corev1.PodRunning, corev1.ConditionTrue},
		{"crash loop is Running", two, podState{"a": {bad}, "b": {running}}, map[string]waitState{"a": {Reason: "CrashLoopBackOff"}}, corev1.PodRunning, corev1.ConditionFalse},
		{"Never all ok", never, podState{"a": {ok}, "b": {ok}}, nil, corev1.PodSucceeded, corev1.ConditionFalse},
		{"Never one failed", never, podState{"a": {ok}, "b": {bad}}, nil, corev1.PodFailed, corev1.ConditionFalse},
		{"OnFailure all ok", onFailure, podState{"a": {ok}, "b": {ok}}, nil, corev1.PodSucceeded, corev1.ConditionFalse},
		{"config error is Pending", two, podState{"a": {running}}, map[string]waitState{"b": {Reason: "CreateContainerConfigError", Message: "m"}}, corev1.PodPending, corev1.ConditionFalse},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(decideInput{Pod: tc.pod, State: tc.state, Backoff: newBackoff(time.Second, time.Minute, time.Hour), Now: t0.Add(time.Hour)})
			waiting := tc.waiting
			if waiting == nil {
				waiting = map[string]waitState{}
			}
			st := computeStatus(statusInput{Pod: tc.pod, State: tc.state, Decision: d, Waiting: waiting, PodIP: "10.0.0.5", HostIP: "192.0.2.1", Start: t0, Now: t0})
			if st.Phase != tc.phase {
				t.Errorf("phase = %s, want %s", st.Phase, tc.phase)
			}
			if got := condition(st, corev1.PodReady); got != tc.ready {
				t.Errorf("Ready = %s, want %s", got, tc.ready)
			}
			if st.PodIP != "10.0.0.5" || len(st.PodIPs) != 1 || st.HostIP != "192.0.2.1" {
				t.Errorf("IPs %q %v %q", st.PodIP, st.PodIPs, st.HostIP)
			}
			if len(st.ContainerStatuses) != 2 {
				t.Fatalf("%d container statuses", len(st.ContainerStatuses))
			}
		})
	}
}

func TestComputeStatusContainerDetails(t *testing.T) {
	pod := testPod("p", ctr("a", "img"))
	pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{}
	prev := run(0, runtime.StateExited, 137, 0, time.Second)
	prev.Reason = reasonOOMKilled
	cur := run(1, runtime.StateRunning, 0, 2*time.Second, 0)
	state := podState{"a": {prev, cur}}
	ready := false
	probes := func(c *corev1.Container, id string) (bool, bool) { return true, ready }
	in := statusInput{Pod: pod, State: state, Decision: decision{InitDone: true}, Waiting: map[string]waitState{},
		Probes: probes, ImageIDs: map[string]string{"img": "sha256:abc"}, Start: t0, Now: t0.Add(time.Minute)}
	st := computeStatus(in)
	cs := st.ContainerStatuses[0]
	if cs.RestartCount != 1 || cs.ContainerID != "containerd://id1" || cs.ImageID != "sha256:abc" || cs.Ready || cs.Started == nil || !*cs.Started {
		t.Errorf("status = %+v", cs)
	}
	if lt := cs.LastTerminationState.Terminated; lt == nil || lt.Reason != "OOMKilled" || lt.ExitCode != 137 || lt.ContainerID != "containerd://id0" {
		t.Errorf("lastState = %+v", cs.LastTerminationState)
	}
	if !cs.State.Running.StartedAt.Time.Equal(t0.Add(2 * time.Second)) {
		t.Errorf("startedAt = %v", cs.State.Running.StartedAt)
	}
	// Ready flips: transition time is now; unchanged conditions keep theirs.
	ready = true
	in.Prev = st
	in.Now = t0.Add(2 * time.Minute)
	st2 := computeStatus(in)
	for _, c := range st2.Conditions {
		want := t0.Add(time.Minute)
		if c.Type == corev1.PodReady || c.Type == corev1.ContainersReady {
			want = t0.Add(2 * time.Minute)
		}
		if !c.LastTransitionTime.Time.Equal(want) {
			t.Errorf("%s transition = %v, want %v", c.Type, c.LastTransitionTime, want)
		}
	}
	if condition(st2, corev1.PodReady) != corev1.ConditionTrue {
		t.Errorf("not Ready")
	}
	// Recomputing with nothing changed gives an identical status (no write).
	in.Prev = st2
	in.Now = t0.Add(3 * time.Minute)
	st3 := computeStatus(in)
	if !equalStatus(st2, st3) {
		t.Errorf("status changed without cause:\n%+v\n%+v", st2, st3)
	}
}

func equalStatus(a, b corev1.PodStatus) bool { return statusEqual(a, b) }

func TestInitStatuses(t *testing.T) {
	pod := testPod("p", ctr("a", "img"))
	pod.Spec.InitContainers = []corev1.Container{ctr("i1", "img"), ctr("i2", "img")}
	state := podState{"i1": {run(0, runtime.StateExited, 0, 0, time.Second)}, "i2": {run(0, runtime.StateRunning, 0, time.Second, 0)}}
	d := decide(decideInput{Pod: pod, State: state, Backoff: newBackoff(time.Second, time.Minute, time.Hour), Now: t0})
	st := computeStatus(statusInput{Pod: pod, State: state, Decision: d, Waiting: map[string]waitState{}, Start: t0, Now: t0})
	if st.Phase != corev1.PodPending || condition(st, corev1.PodInitialized) != corev1.ConditionFalse {
		t.Errorf("phase %s initialized %s", st.Phase, condition(st, corev1.PodInitialized))
	}
	if ic := st.InitContainerStatuses[0]; ic.State.Terminated == nil || ic.State.Terminated.Reason != "Completed" || !ic.Ready {
		t.Errorf("i1 = %+v", ic)
	}
	if ic := st.InitContainerStatuses[1]; ic.State.Running == nil || ic.Ready {
		t.Errorf("i2 = %+v", ic)
	}
	if w := st.ContainerStatuses[0].State.Waiting; w == nil || w.Reason != "PodInitializing" {
		t.Errorf("app = %+v", st.ContainerStatuses[0].State)
	}
	// Never + failed init: Failed.
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	state = podState{"i1": {run(0, runtime.StateExited, 2, 0, time.Second)}}
	d = decide(decideInput{Pod: pod, State: state, Backoff: newBackoff(time.Second, time.Minute, time.Hour), Now: t0})
	st = computeStatus(statusInput{Pod: pod, State: state, Decision: d, Waiting: map[string]waitState{}, Start: t0, Now: t0})
	if st.Phase != corev1.PodFailed {
		t.Errorf("phase = %s", st.Phase)
	}
}

func TestQOSClass(t *testing.T) {
	best := testPod("p", ctr("a", "img"))
	burst := best.DeepCopy()
	burst.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}
	guar := best.DeepCopy()
	rl := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("64Mi")}
	guar.Spec.Containers[0].Resources = corev1.ResourceRequirements{Limits: rl, Requests: rl}
	for pod, want := range map[*corev1.Pod]corev1.PodQOSClass{best: corev1.PodQOSBestEffort, burst: corev1.PodQOSBurstable, guar: corev1.PodQOSGuaranteed} {
		if got := qosClass(pod); got != want {
			t.Errorf("qos = %s, want %s", got, want)
		}
	}
	if r := resources(&guar.Spec.Containers[0]); r.MemoryLimitBytes != 64<<20 || r.CPULimitMillis != 1000 || r.CPURequestMillis != 1000 {
		t.Errorf("resources = %+v", r)
	}
}
