package pods

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/pkg/netns"
	cnins "github.com/containernetworking/plugins/pkg/ns"
	"github.com/strom-project/strom/agent/network"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/test/ctrtest"
	"github.com/strom-project/strom/test/images"
	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var (
	imagesOnce sync.Once
	imagesDir  string
	imagesErr  error
	archives   []images.Archive
)

func TestMain(m *testing.M) {
	code := m.Run()
	if imagesDir != "" {
		os.RemoveAll(imagesDir)
	}
	os.Exit(code)
}

// realEnv is a private containerd, a node network namespace with the CNI
// bridge in it, and a Manager over them.
type realEnv struct {
	t      *testing.T
	rtCfg  runtime.Config
	rt     *runtime.Containerd
	node   string // netns path acting as the node
	net    *network.Manager
	status *fakeStatus
	objs   *fakeObjects
	root   string
	m      *Manager
	cancel context.CancelFunc
	done   chan struct{}
}

func newRealEnv(t *testing.T) *realEnv {
	t.Helper()
	ctrtest.RequireRoot(t)
	imagesOnce.Do(func() {
		imagesDir, imagesErr = os.MkdirTemp("", "strom-pods-images-")
		if imagesErr == nil {
			archives, imagesErr = images.BuildAll(context.Background(), imagesDir)
		}
	})
	if imagesErr != nil {
		t.Fatalf("building test images: %v", imagesErr)
	}
	c := ctrtest.Start(t)
	base := t.TempDir()
	t.Cleanup(func() {
		if err := ctrtest.UnmountUnder(base); err != nil {
			t.Errorf("unmounting under %s: %v", base, err)
		}
	})
	e := &realEnv{t: t, status: newFakeStatus(), objs: newFakeObjects(), root: filepath.Join(base, "agent")}
	e.rtCfg = runtime.Config{
		Address: c.Address, Namespace: c.Namespace,
		StateDir: filepath.Join(base, "state"), NetNSDir: filepath.Join(base, "netns"),
		LogDir: filepath.Join(base, "logs"), FIFODir: filepath.Join(base, "fifo"),
		Logger: zaptest.NewLogger(t),
	}
	rt, err := runtime.NewContainerd(context.Background(), e.rtCfg)
	if err != nil {
		t.Fatalf("NewContainerd: %v", err)
	}
	t.Cleanup(func() { rt.Close() })
	e.rt = rt
	for _, a := range archives {
		f, err := os.Open(a.Path)
		if err != nil {
			t.Fatalf("opening %s: %v", a.Path, err)
		}
		_, err = rt.ImportImage(context.Background(), f)
		f.Close()
		if err != nil {
			t.Fatalf("importing %s: %v", a.Path, err)
		}
	}
	e.node = ctrtest.NewNetNS(t).GetPath()
	e.net, err = network.New(network.Config{
		PodCIDR: "10.244.20.0/24", CacheDir: filepath.Join(base, "cni"),
		BridgeName: "strompods0", HostNetNS: e.node,
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatalf("network.New: %v", err)
	}
	e.m = e.newManager()
	return e
}

// dialFromNode opens a connection with the socket created in the node
// namespace.
func (e *realEnv) dialFromNode(ctx context.Context, nw, addr string) (net.Conn, error) {
	var conn net.Conn
	err := cnins.WithNetNSPath(e.node, func(cnins.NetNS) error {
		var err error
		d := net.Dialer{Timeout: 2 * time.Second}
		conn, err = d.DialContext(ctx, nw, addr)
		return err
	})
	return conn, err
}

func (e *realEnv) newManager() *Manager {
	return NewManager(Config{
		NodeName: "node-1", NodeIP: "192.0.2.10", Runtime: e.rt, Network: NetworkAdapter{M: e.net},
		Status: e.status, Objects: e.objs, DNS: DNS{ClusterDNS: []string{"10.96.0.10"}},
		RootDir: e.root, Logger: zaptest.NewLogger(e.t), ProbeDial: e.dialFromNode,
		SyncPeriod: 200 * time.Millisecond, BackoffInitial: time.Second, BackoffMax: 4 * time.Second,
		OrphanGracePeriod: 2 * time.Second,
	})
}

func (e *realEnv) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done = cancel, make(chan struct{})
	m := e.m
	go func() {
		defer close(e.done)
		_ = m.Run(ctx)
	}()
}

func (e *realEnv) stop() {
	if e.cancel != nil {
		e.cancel()
		<-e.done
		e.cancel = nil
	}
}

// removeAll empties the desired set and waits until the runtime has
// nothing left, then stops the manager.
func (e *realEnv) removeAll() {
	e.t.Helper()
	e.m.Sync(context.Background(), nil)
	eventually(e.t, 60*time.Second, "every pod removed", func() (bool, string) {
		ctrs, err := e.rt.ListContainers(context.Background(), nil)
		sbs, err2 := e.rt.ListSandboxes(context.Background())
		return err == nil && err2 == nil && len(ctrs) == 0 && len(sbs) == 0, fmt.Sprintf("%d containers, %d sandboxes", len(ctrs), len(sbs))
	})
	e.stop()
}

func (e *realEnv) wait(pod *corev1.Pod, d time.Duration, what string, cond func(corev1.PodStatus) bool) corev1.PodStatus {
	e.t.Helper()
	var st corev1.PodStatus
	eventually(e.t, d, pod.Name+": "+what, func() (bool, string) {
		e.status.mu.Lock()
		defer e.status.mu.Unlock()
		all := e.status.statuses[pod.UID]
		for _, s := range all {
			if cond(s) {
				st = s
				return true, ""
			}
		}
		if len(all) == 0 {
			return false, "no status"
		}
		return false, fmt.Sprintf("%+v", all[len(all)-1])
	})
	return st
}

func (e *realEnv) logOf(pod *corev1.Pod, container string, previous bool) string {
	e.t.Helper()
	p, err := e.m.ContainerLogPath(pod.Namespace, pod.Name, container, previous)
	if err != nil {
		e.t.Fatalf("ContainerLogPath(%s, %s, %v): %v", pod.Name, container, previous, err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		e.t.Fatalf("reading log %s: %v", p, err)
	}
	return string(b)
}

func realPod(name string, policy corev1.RestartPolicy, containers ...corev1.Container) *corev1.Pod {
	grace := int64(1)
	for i := range containers {
		if containers[i].ImagePullPolicy == "" {
			containers[i].ImagePullPolicy = corev1.PullNever
		}
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "it", UID: types.UID("it-" + name), Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			NodeName: "node-1", RestartPolicy: policy, Containers: containers,
			TerminationGracePeriodSeconds: &grace,
		},
	}
}

func shell(name, script string) corev1.Container {
	return corev1.Container{Name: name, Image: images.Busybox, Command: []string{"sh", "-c", script}}
}

func TestPodsOnContainerd(t *testing.T) {
	e := newRealEnv(t)
	ctx := context.Background()
	e.objs.putConfigMap("it", "settings", map[string]string{"greeting": "hello from a configmap", "color": "blue"})

	// env: downward API, configMapKeyRef, a configMap volume, DNS, hostname.
	envPod := realPod("env", corev1.RestartPolicyNever, shell("main",
		`echo "POD=$POD NS=$NS IP=$IP NODE=$NODE HOSTIP=$HOSTIP APP=$APP COLOR=$COLOR"; cat /etc/cfg/greeting; echo; cat /etc/resolv.conf; hostname`))
	envPod.Spec.Containers[0].Env = []corev1.EnvVar{
		{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		{Name: "IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "NODE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nodeName"}}},
		{Name: "HOSTIP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.hostIP"}}},
		{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
		{Name: "COLOR", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}, Key: "color"}}},
	}
	envPod.Spec.Volumes = []corev1.Volume{{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}}
	envPod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "cfg", MountPath: "/etc/cfg"}}

	// init: an init container writes into a tmpfs emptyDir the app reads.
	initPod := realPod("init", corev1.RestartPolicyNever, shell("main", `cat /work/from-init`))
	initPod.Spec.InitContainers = []corev1.Container{shell("prepare", `echo prepared-by-init > /work/from-init`)}
	initPod.Spec.InitContainers[0].ImagePullPolicy = corev1.PullNever
	initPod.Spec.Volumes = []corev1.Volume{{Name: "work", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}}}
	initPod.Spec.InitContainers[0].VolumeMounts = []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}
	initPod.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "work", MountPath: "/work"}}

	crashPod := realPod("crash", corev1.RestartPolicyAlways, shell("main", `echo crashing; exit 3`))

	http := realPod("http", corev1.RestartPolicyAlways, corev1.Container{Name: "web", Image: images.HTTPServer,
		Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
		ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("http")}},
			PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 3},
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 1, FailureThreshold: 3},
		StartupProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(8080)}},
			PeriodSeconds: 1, FailureThreshold: 10},
	})
	unhealthy := realPod("unhealthy", corev1.RestartPolicyAlways, corev1.Container{Name: "web", Image: images.HTTPServer,
		// The server answers every path, so liveness checks a file that is
		// not there, through exec.
		LivenessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"cat", "/tmp/healthy"}}},
			InitialDelaySeconds: 1, PeriodSeconds: 1, FailureThreshold: 2},
	})
	noImage := realPod("noimage", corev1.RestartPolicyAlways, corev1.Container{Name: "main", Image: "strom.test/absent:1"})
	pullFail := realPod("pullfail", corev1.RestartPolicyAlways, corev1.Container{Name: "main", Image: "127.0.0.1:1/absent:1", ImagePullPolicy: corev1.PullIfNotPresent})
	noCM := realPod("nocm", corev1.RestartPolicyAlways, shell("main", `echo "LATE=$LATE"; sleep 3600`))
	noCM.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "LATE", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: "late"}, Key: "k"}}}}
	badCmd := realPod("badcmd", corev1.RestartPolicyNever, corev1.Container{Name: "main", Image: images.Busybox, Command: []string{"/no/such/binary"}})

	hostDir := t.TempDir()
	hostPathType := corev1.HostPathDirectory
	graceful := realPod("graceful", corev1.RestartPolicyAlways, shell("main",
		`trap 'echo term >> /out/log; exit 0' TERM; echo started >> /out/log; while true; do sleep 1; done`))
	grace10 := int64(10)
	graceful.Spec.TerminationGracePeriodSeconds = &grace10
	graceful.Spec.Volumes = []corev1.Volume{{Name: "out", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: hostDir, Type: &hostPathType}}}}
	graceful.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "out", MountPath: "/out"}}
	graceful.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh", "-c", "echo prestop >> /out/log"}}}}

	steady := realPod("steady", corev1.RestartPolicyAlways, shell("main", `sleep 3600`))
	orphan := realPod("orphan", corev1.RestartPolicyAlways, shell("main", `sleep 3600`))

	all := []*corev1.Pod{envPod, initPod, crashPod, http, unhealthy, noImage, pullFail, noCM, badCmd, graceful, steady, orphan}
	e.m.Sync(ctx, all)
	e.start()
	t.Cleanup(e.removeAll)

	t.Run("env and configmap", func(t *testing.T) {
		st := e.wait(envPod, 30*time.Second, "Succeeded", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodSucceeded })
		log := e.logOf(envPod, "main", false)
		want := fmt.Sprintf("POD=env NS=it IP=%s NODE=node-1 HOSTIP=192.0.2.10 APP=env COLOR=blue", st.PodIP)
		for _, w := range []string{want, "hello from a configmap", "nameserver 10.96.0.10", "search it.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5", "\nenv\n"} {
			if !strings.Contains(log, w) {
				t.Errorf("log lacks %q:\n%s", w, log)
			}
		}
		if !strings.HasPrefix(st.PodIP, "10.244.20.") {
			t.Errorf("podIP = %q", st.PodIP)
		}
		cs := cstatus(st, "main")
		if cs.State.Terminated == nil || cs.State.Terminated.Reason != "Completed" || cs.State.Terminated.ExitCode != 0 || cs.ImageID == "" {
			t.Errorf("status = %+v", cs)
		}
	})

	t.Run("init container", func(t *testing.T) {
		st := e.wait(initPod, 30*time.Second, "Succeeded", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodSucceeded })
		if log := e.logOf(initPod, "main", false); !strings.Contains(log, "prepared-by-init") {
			t.Errorf("main log = %q", log)
		}
		if ic := cstatus(st, "prepare"); ic.State.Terminated == nil || ic.State.Terminated.Reason != "Completed" {
			t.Errorf("init status = %+v", ic.State)
		}
		if condition(st, corev1.PodInitialized) != corev1.ConditionTrue {
			t.Errorf("Initialized = %s", condition(st, corev1.PodInitialized))
		}
	})

	t.Run("crash loop", func(t *testing.T) {
		st := e.wait(crashPod, 40*time.Second, "CrashLoopBackOff with 2 restarts", func(s corev1.PodStatus) bool {
			cs := cstatus(s, "main")
			return cs.RestartCount >= 2 && cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
		})
		cs := cstatus(st, "main")
		if lt := cs.LastTerminationState.Terminated; lt == nil || lt.ExitCode != 3 || lt.Reason != "Error" {
			t.Errorf("lastState = %+v", cs.LastTerminationState)
		}
		if prev := e.logOf(crashPod, "main", true); !strings.Contains(prev, "crashing") {
			t.Errorf("previous log = %q", prev)
		}
		if !e.status.hasEvent("BackOff", "Back-off restarting failed container main") {
			t.Errorf("no BackOff event")
		}
	})

	t.Run("http probes", func(t *testing.T) {
		st := e.wait(http, 30*time.Second, "Ready", func(s corev1.PodStatus) bool { return condition(s, corev1.PodReady) == corev1.ConditionTrue })
		cs := cstatus(st, "web")
		if !cs.Ready || cs.State.Running == nil || cs.RestartCount != 0 || cs.Started == nil || !*cs.Started {
			t.Errorf("status = %+v", cs)
		}
		body, err := getFromNode(e, "http://"+net.JoinHostPort(st.PodIP, "8080")+"/")
		if err != nil || strings.TrimSpace(body) != "http" {
			t.Errorf("GET / = %q, %v; want the pod's hostname", body, err)
		}
		code, err := e.m.Exec(ctx, "it", "http", "web", runtime.ExecConfig{Cmd: []string{"sh", "-c", "exit 4"}})
		if err != nil || code != 4 {
			t.Errorf("Exec = %d, %v", code, err)
		}
	})

	t.Run("liveness restarts", func(t *testing.T) {
		e.wait(unhealthy, 40*time.Second, "restarted by liveness", func(s corev1.PodStatus) bool {
			return cstatus(s, "web").RestartCount >= 1
		})
		if !e.status.hasEvent("Unhealthy", "Liveness probe failed") || !e.status.hasEvent("Killing", "failed liveness probe") {
			t.Errorf("events: %v", e.status.eventLog())
		}
	})

	t.Run("missing image", func(t *testing.T) {
		st := e.wait(noImage, 20*time.Second, "ErrImageNeverPull", func(s corev1.PodStatus) bool {
			w := cstatus(s, "main").State.Waiting
			return w != nil && w.Reason == "ErrImageNeverPull"
		})
		if st.Phase != corev1.PodPending {
			t.Errorf("phase = %s", st.Phase)
		}
		e.wait(pullFail, 30*time.Second, "ErrImagePull", func(s corev1.PodStatus) bool {
			w := cstatus(s, "main").State.Waiting
			return w != nil && w.Reason == "ErrImagePull" && strings.Contains(w.Message, "127.0.0.1:1/absent:1")
		})
		e.wait(pullFail, 30*time.Second, "ImagePullBackOff", func(s corev1.PodStatus) bool {
			w := cstatus(s, "main").State.Waiting
			return w != nil && w.Reason == "ImagePullBackOff"
		})
	})

	t.Run("missing configmap", func(t *testing.T) {
		st := e.wait(noCM, 20*time.Second, "CreateContainerConfigError", func(s corev1.PodStatus) bool {
			w := cstatus(s, "main").State.Waiting
			return w != nil && w.Reason == "CreateContainerConfigError"
		})
		if msg := cstatus(st, "main").State.Waiting.Message; msg != `configmap "late" not found` {
			t.Errorf("message = %q", msg)
		}
		e.objs.putConfigMap("it", "late", map[string]string{"k": "arrived"})
		e.wait(noCM, 20*time.Second, "Running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
		eventually(t, 10*time.Second, "log", func() (bool, string) {
			log := e.logOf(noCM, "main", false)
			return strings.Contains(log, "LATE=arrived"), log
		})
	})

	t.Run("command not found", func(t *testing.T) {
		st := e.wait(badCmd, 20*time.Second, "Failed", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodFailed })
		term := cstatus(st, "main").State.Terminated
		if term == nil || term.Reason != "ContainerCannotRun" || term.ExitCode != 128 || !strings.Contains(term.Message, "no/such/binary") {
			t.Errorf("terminated = %+v", term)
		}
		if !e.status.hasEvent("Failed", "no/such/binary") {
			t.Errorf("no Failed event")
		}
	})

	t.Run("deletion with grace", func(t *testing.T) {
		e.wait(graceful, 20*time.Second, "Running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
		logFile := filepath.Join(hostDir, "log")
		eventually(t, 10*time.Second, "started line", func() (bool, string) {
			b, _ := os.ReadFile(logFile)
			return strings.Contains(string(b), "started"), string(b)
		})
		sb, err := e.rt.Sandbox(ctx, string(graceful.UID))
		if err != nil {
			t.Fatalf("sandbox: %v", err)
		}
		del := graceful.DeepCopy()
		now := metav1.Now()
		del.DeletionTimestamp = &now
		begin := time.Now()
		e.m.Update(ctx, del)
		eventually(t, 20*time.Second, "PodTerminated", func() (bool, string) { return e.status.wasTerminated(graceful.UID), "" })
		took := time.Since(begin)
		b, _ := os.ReadFile(logFile)
		if got := string(b); got != "started\nprestop\nterm\n" {
			t.Errorf("container saw %q, want started, prestop, term", got)
		}
		if took > 8*time.Second {
			t.Errorf("termination took %v: SIGTERM not honoured?", took)
		}
		st, _ := e.status.last(graceful.UID)
		if term := cstatus(st, "main").State.Terminated; term == nil || term.ExitCode != 0 {
			t.Errorf("final status = %+v", cstatus(st, "main").State)
		}
		if ctrs, _ := e.rt.ListContainers(ctx, map[string]string{runtime.LabelPodUID: string(graceful.UID)}); len(ctrs) != 0 {
			t.Errorf("%d containers left", len(ctrs))
		}
		if _, err := os.Stat(sb.NetNSPath); !os.IsNotExist(err) {
			t.Errorf("netns %s left: %v", sb.NetNSPath, err)
		}
		if _, err := os.Stat(filepath.Join(e.root, "pods", string(graceful.UID))); !os.IsNotExist(err) {
			t.Errorf("volume dir left: %v", err)
		}
	})

	t.Run("restart safety", func(t *testing.T) {
		e.wait(steady, 20*time.Second, "Running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
		e.wait(orphan, 20*time.Second, "Running", func(s corev1.PodStatus) bool { return s.Phase == corev1.PodRunning })
		before, err := e.rt.ListContainers(ctx, map[string]string{runtime.LabelPodUID: string(steady.UID)})
		if err != nil || len(before) != 1 {
			t.Fatalf("steady containers: %v %v", before, err)
		}
		e.stop()
		// A new agent over the same runtime; the orphan is no longer bound
		// here.
		e.m = e.newManager()
		var keep []*corev1.Pod
		for _, p := range all {
			if p != orphan && p != graceful {
				keep = append(keep, p)
			}
		}
		e.m.Sync(ctx, keep)
		e.start()
		eventually(t, 30*time.Second, "orphan removed", func() (bool, string) {
			ctrs, _ := e.rt.ListContainers(ctx, map[string]string{runtime.LabelPodUID: string(orphan.UID)})
			_, err := e.rt.Sandbox(ctx, string(orphan.UID))
			return len(ctrs) == 0 && err != nil, fmt.Sprintf("%d containers, sandbox err %v", len(ctrs), err)
		})
		after, err := e.rt.ListContainers(ctx, map[string]string{runtime.LabelPodUID: string(steady.UID)})
		if err != nil || len(after) != 1 || after[0].ID != before[0].ID || after[0].PID != before[0].PID || after[0].State != runtime.StateRunning {
			t.Fatalf("steady container changed: before %+v after %+v (%v)", before, after, err)
		}
		e.wait(http, 20*time.Second, "Ready again", func(s corev1.PodStatus) bool { return condition(s, corev1.PodReady) == corev1.ConditionTrue })
	})

	t.Run("machine restart", func(t *testing.T) {
		// The agent stops; the "machine" loses the web server's process and
		// the pinned network namespace, as after a reboot.
		e.stop()
		ctrs, err := e.rt.ListContainers(ctx, map[string]string{runtime.LabelPodUID: string(http.UID)})
		if err != nil || len(ctrs) != 1 {
			t.Fatalf("http containers: %+v %v", ctrs, err)
		}
		if err := e.rt.StopContainer(ctx, ctrs[0].ID, 0); err != nil {
			t.Fatalf("killing: %v", err)
		}
		sb, err := e.rt.Sandbox(ctx, string(http.UID))
		if err != nil {
			t.Fatal(err)
		}
		if err := netns.LoadNetNS(sb.NetNSPath).Remove(); err != nil {
			t.Fatalf("removing netns: %v", err)
		}
		e.m = e.newManager()
		var keep []*corev1.Pod
		for _, p := range all {
			if p != orphan && p != graceful {
				keep = append(keep, p)
			}
		}
		e.m.Sync(ctx, keep)
		e.start()
		st := e.wait(http, 30*time.Second, "back and Ready after the restart", func(s corev1.PodStatus) bool {
			return cstatus(s, "web").RestartCount == 1 && condition(s, corev1.PodReady) == corev1.ConditionTrue
		})
		body, err := getFromNode(e, "http://"+net.JoinHostPort(st.PodIP, "8080")+"/")
		if err != nil || strings.TrimSpace(body) != "http" {
			t.Errorf("GET / after restart = %q, %v", body, err)
		}
		nsb, err := e.rt.Sandbox(ctx, string(http.UID))
		if err != nil || nsb.NetNSPath == sb.NetNSPath || nsb.IP != st.PodIP {
			t.Errorf("sandbox after restart = %+v, %v (old netns %s)", nsb, err, sb.NetNSPath)
		}
	})
}

// getFromNode does an HTTP GET from the node namespace.
func getFromNode(e *realEnv, url string) (string, error) {
	client := &http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, DialContext: e.dialFromNode}}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = io.Copy(&b, resp.Body)
	return b.String(), err
}
