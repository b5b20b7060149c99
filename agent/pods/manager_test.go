package pods

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strom-project/strom/agent/runtime"
	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
)

type harness struct {
	t      *testing.T
	rt     *runtime.Fake
	status *fakeStatus
	objs   *fakeObjects
	net    *fakeNetwork
	clock  *clocktesting.FakeClock
	root   string
	m      *Manager
	cancel context.CancelFunc
	done   chan struct{}
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	clock := newFakeClock()
	h := &harness{
		t: t, rt: runtime.NewFake(clock), status: newFakeStatus(), objs: newFakeObjects(),
		net: newFakeNetwork(), clock: clock, root: t.TempDir(),
	}
	if err := h.rt.AddImage("busybox"); err != nil {
		t.Fatal(err)
	}
	h.m = h.newManager()
	return h
}

func (h *harness) newManager() *Manager {
	return NewManager(Config{
		NodeName: "node-1", NodeIP: "192.0.2.10", Runtime: h.rt, Network: h.net,
		Status: h.status, Objects: h.objs, DNS: DNS{ClusterDNS: []string{"10.96.0.10"}},
		RootDir: h.root, Clock: h.clock, Logger: zaptest.NewLogger(h.t), SyncPeriod: 5 * time.Millisecond,
	})
}

// start runs the manager until the test ends.
func (h *harness) start() {
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan struct{})
	m := h.m
	go func() {
		defer close(h.done)
		_ = m.Run(ctx)
	}()
	h.t.Cleanup(h.stop)
}

func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	<-h.done
	h.cancel = nil
}

// waitStatus polls the last written status of pod until cond holds.
func (h *harness) waitStatus(pod *corev1.Pod, what string, cond func(corev1.PodStatus) bool) corev1.PodStatus {
	h.t.Helper()
	var st corev1.PodStatus
	eventually(h.t, 5*time.Second, what, func() (bool, string) {
		var ok bool
		st, ok = h.status.last(pod.UID)
		return ok && cond(st), fmt.Sprintf("%+v", st)
	})
	return st
}

// waitStatusEver polls every status written for pod until one satisfies
// cond (states that last one sync round are easy to miss otherwise).
func (h *harness) waitStatusEver(pod *corev1.Pod, what string, cond func(corev1.PodStatus) bool) corev1.PodStatus {
	h.t.Helper()
	var found corev1.PodStatus
	eventually(h.t, 5*time.Second, what, func() (bool, string) {
		h.status.mu.Lock()
		defer h.status.mu.Unlock()
		all := h.status.statuses[pod.UID]
		for _, st := range all {
			if cond(st) {
				found = st
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d statuses", len(all))
	})
	return found
}

func cstatus(st corev1.PodStatus, name string) corev1.ContainerStatus {
	for _, cs := range append(append([]corev1.ContainerStatus{}, st.InitContainerStatuses...), st.ContainerStatuses...) {
		if cs.Name == name {
			return cs
		}
	}
	return corev1.ContainerStatus{}
}

func condition(st corev1.PodStatus, t corev1.PodConditionType) corev1.ConditionStatus {
	for _, c := range st.Conditions {
		if c.Type == t {
			return c.Status
		}
	}
	return ""
}

func runningOf(h *harness, uid, name string) []runtime.ContainerStatus {
	ctrs, _ := h.rt.ListContainers(context.Background(), map[string]string{runtime.LabelPodUID: uid, runtime.LabelContainerName: name})
	return ctrs
}

func TestPodRunsAndReportsStatus(t *testing.T) {
	h := newHarness(t)
	pod := testPod("web", ctr("main", "busybox", "sleep", "1000"))
	pod.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
	}
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	st := h.waitStatus(pod, "Running and Ready", func(s corev1.PodStatus) bool {
		return s.Phase == corev1.PodRunning && condition(s, corev1.PodReady) == corev1.ConditionTrue
	})
	if st.PodIP == "" || st.HostIP != "192.0.2.10" || st.StartTime == nil {
		t.Errorf("podIP=%q hostIP=%q startTime=%v", st.PodIP, st.HostIP, st.StartTime)
	}
	cs := cstatus(st, "main")
	if cs.State.Running == nil || !cs.Ready || cs.RestartCount != 0 || !strings.HasPrefix(cs.ContainerID, "containerd://") || cs.ImageID == "" {
		t.Errorf("container status = %+v", cs)
	}
	for _, r := range []string{"Pulled", "Created", "Started"} {
		if !h.status.hasEvent(r, "") {
			t.Errorf("no %s event in %v", r, h.status.eventLog())
		}
	}
	// The sandbox got the cluster DNS and the pod name as hostname.
	sb, err := h.rt.Sandbox(context.Background(), string(pod.UID))
	if err != nil || sb.Hostname != "web" || sb.IP != st.PodIP {
		t.Errorf("sandbox = %+v, %v", sb, err)
	}
	// Once converged, syncs write nothing new.
	n := len(h.status.statuses[pod.UID])
	time.Sleep(100 * time.Millisecond)
	h.status.mu.Lock()
	m := len(h.status.statuses[pod.UID])
	h.status.mu.Unlock()
	if m != n {
		t.Errorf("status written %d more times without a change", m-n)
	}
}

func TestCrashLoopBackOff(t *testing.T) {
	h := newHarness(t)
	pod := testPod("crash", ctr("main", "busybox", "false"))
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	uid := string(pod.UID)
	exitLatest := func(code int) {
		eventually(t, 5*time.Second, "a running run", func() (bool, string) {
			for _, c := range runningOf(h, uid, "main") {
				if c.State == runtime.StateRunning {
					return h.rt.Exit(c.ID, code, false) == nil, ""
				}
			}
			return false, "none running"
		})
	}
	// First crash: restarted at once (restartCount 1).
	h.clock.Step(time.Second)
	exitLatest(1)
	h.waitStatus(pod, "restartCount 1 running", func(s corev1.PodStatus) bool {
		cs := cstatus(s, "main")
		return cs.RestartCount == 1 && cs.State.Running != nil
	})
	// Second crash: back-off 10s.
	h.clock.Step(time.Second)
	exitLatest(2)
	st := h.waitStatus(pod, "CrashLoopBackOff", func(s corev1.PodStatus) bool {
		cs := cstatus(s, "main")
		return cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
	})
	cs := cstatus(st, "main")
	if cs.LastTerminationState.Terminated == nil || cs.LastTerminationState.Terminated.ExitCode != 2 || cs.LastTerminationState.Terminated.Reason != "Error" {
		t.Errorf("lastState = %+v", cs.LastTerminationState)
	}
	if !strings.Contains(cs.State.Waiting.Message, "back-off 10s") {
		t.Errorf("waiting message = %q", cs.State.Waiting.Message)
	}
	if st.Phase != corev1.PodRunning || condition(st, corev1.PodReady) != corev1.ConditionFalse {
		t.Errorf("phase %s ready %s", st.Phase, condition(st, corev1.PodReady))
	}
	if !h.status.hasEvent("BackOff", "Back-off restarting failed container main") {
		t.Errorf("no BackOff event: %v", h.status.eventLog())
	}
	// Nothing restarts before the back-off ends...
	time.Sleep(50 * time.Millisecond)
	if n := len(runningOf(h, uid, "main")); n != 2 {
		t.Fatalf("%d runs during back-off, want 2 (the previous and the crashed one)", n)
	}
	// ...and it restarts after.
	h.clock.Step(10 * time.Second)
	h.waitStatus(pod, "restartCount 2 running", func(s corev1.PodStatus) bool {
		cs := cstatus(s, "main")
		return cs.RestartCount == 2 && cs.State.Running != nil
	})
	// Old runs are collected: only the previous and the current remain.
	if runs := runningOf(h, uid, "main"); len(runs) != 2 {
		t.Errorf("runs kept = %d, want 2", len(runs))
	}
}

func TestMissingConfigMapThenAppears(t *testing.T) {
	h := newHarness(t)
	other := testPod("other", ctr("main", "busybox", "sleep", "1000"))
	pod := testPod("cfg", ctr("main", "busybox", "sleep", "1000"))
	pod.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{
		ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "k"}}}}
	h.m.Sync(context.Background(), []*corev1.Pod{pod, other})
	h.start()
	st := h.waitStatus(pod, "CreateContainerConfigError", func(s corev1.PodStatus) bool {
		w := cstatus(s, "main").State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError"
	})
	if msg := cstatus(st, "main").State.Waiting.Message; msg != `configmap "settings" not found` {
		t.Errorf("message = %q", msg)
	}
	if st.Phase != corev1.PodPending {
		t.Errorf("phase = %s", st.Phase)
	}
	if !h.status.hasEvent("Failed", `configmap "settings" not found`) {
		t.Errorf("no Failed event: %v", h.status.eventLog())
	}
	h.waitStatus(other, "other pod running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	h.objs.putConfigMap("default", "settings", map[string]string{"k": "v"})
	h.waitStatus(pod, "Running after the ConfigMap appears", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
}

func TestConfigMapVolumeUpdatedInPlace(t *testing.T) {
	h := newHarness(t)
	pod := testPod("vol", ctr("main", "busybox", "sleep", "1000"))
	pod.Spec.Volumes = []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}}}
	pod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "conf", MountPath: "/etc/conf"}}
	h.objs.putConfigMap("default", "c", map[string]string{"a": "1"})
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	h.waitStatus(pod, "running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	file := filepath.Join(h.root, "pods", string(pod.UID), "volumes", "conf", "a")
	if b, err := os.ReadFile(file); err != nil || string(b) != "1" {
		t.Fatalf("volume file = %q, %v", b, err)
	}
	h.objs.putConfigMap("default", "c", map[string]string{"a": "2"})
	eventually(t, 5*time.Second, "updated file", func() (bool, string) {
		b, err := os.ReadFile(file)
		return err == nil && string(b) == "2", string(b)
	})
	// The container was not restarted for it.
	if st, _ := h.status.last(pod.UID); cstatus(st, "main").RestartCount != 0 {
		t.Errorf("restartCount = %d", cstatus(st, "main").RestartCount)
	}
}

func TestInitContainersRunInOrder(t *testing.T) {
	h := newHarness(t)
	pod := testPod("init", ctr("main", "busybox", "sleep", "1000"))
	pod.Spec.InitContainers = []corev1.Container{ctr("first", "busybox", "true"), ctr("second", "busybox", "true")}
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	uid := string(pod.UID)
	st := h.waitStatus(pod, "first init running", func(s corev1.PodStatus) bool {
		return cstatus(s, "first").State.Running != nil
	})
	if w := cstatus(st, "main").State.Waiting; w == nil || w.Reason != "PodInitializing" || st.Phase != corev1.PodPending {
		t.Errorf("main = %+v phase %s", cstatus(st, "main").State, st.Phase)
	}
	if len(runningOf(h, uid, "second")) != 0 {
		t.Fatalf("second init container created before the first finished")
	}
	if err := h.rt.Exit(runningOf(h, uid, "first")[0].ID, 0, false); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(pod, "second init running", func(s corev1.PodStatus) bool { return cstatus(s, "second").State.Running != nil })
	if err := h.rt.Exit(runningOf(h, uid, "second")[0].ID, 0, false); err != nil {
		t.Fatal(err)
	}
	st = h.waitStatus(pod, "running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	if condition(st, corev1.PodInitialized) != corev1.ConditionTrue {
		t.Errorf("Initialized = %s", condition(st, corev1.PodInitialized))
	}
	if term := cstatus(st, "first").State.Terminated; term == nil || term.Reason != "Completed" {
		t.Errorf("first = %+v", cstatus(st, "first").State)
	}
}

func TestImageErrors(t *testing.T) {
	h := newHarness(t)
	never := testPod("never", ctr("main", "strom.test/absent:1", "true"))
	never.Spec.Containers[0].ImagePullPolicy = corev1.PullNever
	pull := testPod("pull", ctr("main", "strom.test/absent:2", "true"))
	h.m.Sync(context.Background(), []*corev1.Pod{never, pull})
	h.start()
	st := h.waitStatus(never, "ErrImageNeverPull", func(s corev1.PodStatus) bool {
		w := cstatus(s, "main").State.Waiting
		return w != nil && w.Reason == "ErrImageNeverPull"
	})
	if !strings.Contains(cstatus(st, "main").State.Waiting.Message, "strom.test/absent:1") {
		t.Errorf("message = %q", cstatus(st, "main").State.Waiting.Message)
	}
	h.waitStatusEver(pull, "ErrImagePull", func(s corev1.PodStatus) bool {
		w := cstatus(s, "main").State.Waiting
		return w != nil && w.Reason == "ErrImagePull"
	})
	h.waitStatus(pull, "ImagePullBackOff", func(s corev1.PodStatus) bool {
		w := cstatus(s, "main").State.Waiting
		return w != nil && w.Reason == "ImagePullBackOff"
	})
	// The image appears (the fake's Pullable cannot be changed while the
	// runtime is in use) and the back-off ends: the pod starts.
	if err := h.rt.AddImage("strom.test/absent:2"); err != nil {
		t.Fatal(err)
	}
	h.clock.Step(11 * time.Second)
	h.waitStatus(pull, "running after pull", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
}

func TestDeletionWithGrace(t *testing.T) {
	h := newHarness(t)
	pod := testPod("del", ctr("main", "busybox", "sleep", "1000"))
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	h.waitStatus(pod, "running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	del := pod.DeepCopy()
	now := metav1.NewTime(h.clock.Now())
	grace := int64(5)
	del.DeletionTimestamp, del.DeletionGracePeriodSeconds = &now, &grace
	h.m.Update(context.Background(), del)
	eventually(t, 5*time.Second, "PodTerminated", func() (bool, string) { return h.status.wasTerminated(pod.UID), "" })
	if ctrs, _ := h.rt.ListContainers(context.Background(), map[string]string{runtime.LabelPodUID: string(pod.UID)}); len(ctrs) != 0 {
		t.Errorf("containers left: %d", len(ctrs))
	}
	if _, err := h.rt.Sandbox(context.Background(), string(pod.UID)); err == nil {
		t.Errorf("sandbox left")
	}
	if !h.net.tornDown(string(pod.UID)) {
		t.Errorf("network not torn down")
	}
	if _, err := os.Stat(filepath.Join(h.root, "pods", string(pod.UID))); !os.IsNotExist(err) {
		t.Errorf("pod dir left: %v", err)
	}
	if !h.status.hasEvent("Killing", "Stopping container main") {
		t.Errorf("no Killing event")
	}
	if calls := strings.Join(h.rt.CallLog(), "\n"); !strings.Contains(calls, "StopContainer main-") {
		t.Errorf("no StopContainer call")
	}
	// The feed still lists the pod: it is not started again.
	h.m.Update(context.Background(), del)
	time.Sleep(50 * time.Millisecond)
	if ctrs, _ := h.rt.ListContainers(context.Background(), map[string]string{runtime.LabelPodUID: string(pod.UID)}); len(ctrs) != 0 {
		t.Errorf("terminated pod restarted")
	}
}

func TestRemovedFromDesiredSet(t *testing.T) {
	h := newHarness(t)
	a := testPod("a", ctr("main", "busybox", "sleep", "1000"))
	b := testPod("b", ctr("main", "busybox", "sleep", "1000"))
	h.m.Sync(context.Background(), []*corev1.Pod{a, b})
	h.start()
	h.waitStatus(a, "a running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	h.waitStatus(b, "b running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	h.m.Sync(context.Background(), []*corev1.Pod{b})
	eventually(t, 5*time.Second, "a cleaned up", func() (bool, string) {
		ctrs, _ := h.rt.ListContainers(context.Background(), map[string]string{runtime.LabelPodUID: string(a.UID)})
		_, err := h.rt.Sandbox(context.Background(), string(a.UID))
		return len(ctrs) == 0 && err != nil, fmt.Sprintf("%d containers", len(ctrs))
	})
	if h.status.wasTerminated(a.UID) {
		t.Errorf("PodTerminated for a pod that merely left the set")
	}
	if len(runningOf(h, string(b.UID), "main")) != 1 {
		t.Errorf("b disturbed")
	}
	h.m.Remove(context.Background(), b.UID)
	eventually(t, 5*time.Second, "b cleaned up", func() (bool, string) {
		ctrs, _ := h.rt.ListContainers(context.Background(), map[string]string{runtime.LabelPodUID: string(b.UID)})
		return len(ctrs) == 0, ""
	})
}

func TestRestartSafetyAdoptsAndCleansOrphans(t *testing.T) {
	h := newHarness(t)
	keep := testPod("keep", ctr("main", "busybox", "sleep", "1000"))
	gone := testPod("gone", ctr("main", "busybox", "sleep", "1000"))
	h.m.Sync(context.Background(), []*corev1.Pod{keep, gone})
	h.start()
	h.waitStatus(keep, "keep running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	h.waitStatus(gone, "gone running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	before := runningOf(h, string(keep.UID), "main")
	h.stop()

	// A new agent: the control plane only lists keep.
	h.m = h.newManager()
	h.m.Sync(context.Background(), []*corev1.Pod{keep})
	h.start()
	eventually(t, 5*time.Second, "orphan removed", func() (bool, string) {
		ctrs, _ := h.rt.ListContainers(context.Background(), map[string]string{runtime.LabelPodUID: string(gone.UID)})
		return len(ctrs) == 0, ""
	})
	after := runningOf(h, string(keep.UID), "main")
	if len(after) != 1 || after[0].ID != before[0].ID || after[0].State != runtime.StateRunning || after[0].PID != before[0].PID {
		t.Fatalf("running container not adopted: before %+v after %+v", before, after)
	}
	for _, c := range h.rt.CallLog() {
		if c == "StopContainer "+before[0].ID {
			t.Fatalf("adopted container was stopped")
		}
	}
}

func TestRestartAfterRuntimeLostContainers(t *testing.T) {
	h := newHarness(t)
	pod := testPod("lost", ctr("main", "busybox", "sleep", "1000"))
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	h.waitStatus(pod, "running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	h.stop()
	// The machine restarted: containers and sandbox are gone.
	for _, c := range runningOf(h, string(pod.UID), "main") {
		if err := h.rt.RemoveContainer(context.Background(), c.ID); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.rt.RemoveSandbox(context.Background(), string(pod.UID)); err != nil {
		t.Fatal(err)
	}
	h.m = h.newManager()
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	eventually(t, 5*time.Second, "container back", func() (bool, string) {
		runs := runningOf(h, string(pod.UID), "main")
		return len(runs) == 1 && runs[0].State == runtime.StateRunning, fmt.Sprint(len(runs))
	})
	// The stale attachment of the lost namespace was released before the
	// new one was set up.
	if !h.net.tornDown(string(pod.UID)) {
		t.Errorf("stale network attachment not released")
	}
	if _, ok := h.net.PodIP(string(pod.UID)); !ok {
		t.Errorf("pod not attached again")
	}
}

func TestLogPathAndExec(t *testing.T) {
	h := newHarness(t)
	pod := testPod("logs", ctr("main", "busybox", "sleep", "1000"))
	h.rt.ExecFunc = func(id string, cfg runtime.ExecConfig) (int, error) { return 7, nil }
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	h.waitStatus(pod, "running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	if _, err := h.m.ContainerLogPath("default", "logs", "main", true); err == nil {
		t.Errorf("previous log of a container that never restarted: no error")
	}
	p0, err := h.m.ContainerLogPath("default", "logs", "main", false)
	if err != nil || !strings.HasSuffix(p0, "/main/0.log") {
		t.Fatalf("log path = %q, %v", p0, err)
	}
	if err := h.rt.Exit(runningOf(h, string(pod.UID), "main")[0].ID, 1, false); err != nil {
		t.Fatal(err)
	}
	h.waitStatus(pod, "restarted", func(s corev1.PodStatus) bool {
		return cstatus(s, "main").RestartCount == 1 && cstatus(s, "main").State.Running != nil
	})
	prev, err := h.m.ContainerLogPath("default", "logs", "main", true)
	if err != nil || prev != p0 {
		t.Errorf("previous = %q, %v; want %q", prev, err, p0)
	}
	cur, _ := h.m.ContainerLogPath("default", "logs", "main", false)
	if !strings.HasSuffix(cur, "/main/1.log") {
		t.Errorf("current = %q", cur)
	}
	code, err := h.m.Exec(context.Background(), "default", "logs", "main", runtime.ExecConfig{Cmd: []string{"x"}})
	if err != nil || code != 7 {
		t.Errorf("exec = %d, %v", code, err)
	}
	if _, err := h.m.Exec(context.Background(), "default", "logs", "nope", runtime.ExecConfig{Cmd: []string{"x"}}); err == nil {
		t.Errorf("exec in a missing container: no error")
	}
}

// TestNoCleanupBeforeFirstSync: a manager running before the shell's first
// Sync must not take the runtime's pods for orphans.
func TestNoCleanupBeforeFirstSync(t *testing.T) {
	h := newHarness(t)
	pod := testPod("early", ctr("main", "busybox", "sleep", "1000"))
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	h.waitStatus(pod, "running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	h.stop()
	h.m = h.newManager()
	h.start() // Run before any Sync
	time.Sleep(100 * time.Millisecond)
	if runs := runningOf(h, string(pod.UID), "main"); len(runs) != 1 || runs[0].State != runtime.StateRunning {
		t.Fatalf("pod touched before the first Sync: %+v", runs)
	}
	h.m.Sync(context.Background(), nil)
	eventually(t, 5*time.Second, "removed after an empty Sync", func() (bool, string) {
		return len(runningOf(h, string(pod.UID), "main")) == 0, ""
	})
}

// TestDeletedPodUnknownToRuntime: a pod already marked for deletion that
// never ran here is reported terminated at once.
func TestDeletedPodUnknownToRuntime(t *testing.T) {
	h := newHarness(t)
	pod := testPod("ghost", ctr("main", "busybox", "sleep", "1000"))
	now := metav1.NewTime(h.clock.Now())
	pod.DeletionTimestamp = &now
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	eventually(t, 5*time.Second, "PodTerminated", func() (bool, string) { return h.status.wasTerminated(pod.UID), "" })
	if n := len(runningOf(h, string(pod.UID), "main")); n != 0 {
		t.Errorf("%d containers created for a deleted pod", n)
	}
}

// TestLivenessFailureRestarts drives a liveness exec probe through the
// fake runtime's Exec.
func TestLivenessFailureRestarts(t *testing.T) {
	h := newHarness(t)
	h.rt.ExecFunc = func(id string, cfg runtime.ExecConfig) (int, error) { return 1, nil }
	pod := testPod("live", ctr("main", "busybox", "sleep", "1000"))
	pod.Spec.Containers[0].LivenessProbe = &corev1.Probe{
		ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"check"}}},
		PeriodSeconds: 1, FailureThreshold: 1,
	}
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	h.waitStatus(pod, "restarted", func(s corev1.PodStatus) bool { return cstatus(s, "main").RestartCount >= 1 })
	if !h.status.hasEvent("Unhealthy", "Liveness probe failed") || !h.status.hasEvent("Killing", "failed liveness probe, will be restarted") {
		t.Errorf("events: %v", h.status.eventLog())
	}
}

// TestFinishedPodReleasesNetwork: a pod that Succeeded keeps its containers
// (for logs) but gives its IP back; nothing is restarted.
func TestFinishedPodReleasesNetwork(t *testing.T) {
	h := newHarness(t)
	pod := testPod("job", ctr("main", "busybox", "true"))
	pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	h.m.Sync(context.Background(), []*corev1.Pod{pod})
	h.start()
	h.waitStatus(pod, "running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
	if err := h.rt.Exit(runningOf(h, string(pod.UID), "main")[0].ID, 0, false); err != nil {
		t.Fatal(err)
	}
	st := h.waitStatus(pod, "Succeeded", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodSucceeded })
	eventually(t, 5*time.Second, "network released", func() (bool, string) { return h.net.tornDown(string(pod.UID)), "" })
	time.Sleep(50 * time.Millisecond)
	last, _ := h.status.last(pod.UID)
	if last.Phase != corev1.PodSucceeded || last.PodIP != st.PodIP || last.PodIP == "" {
		t.Errorf("after release: phase %s podIP %q (was %q)", last.Phase, last.PodIP, st.PodIP)
	}
	if runs := runningOf(h, string(pod.UID), "main"); len(runs) != 1 || runs[0].State != runtime.StateExited {
		t.Errorf("runs = %+v", runs)
	}
	if cond := condition(last, corev1.PodReady); cond != corev1.ConditionFalse {
		t.Errorf("Ready = %s", cond)
	}
}
