package runtime

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var busybox = "strom.test/busybox:1"

func TestContainerLogsAndExit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sb := e.sandbox(t, "uid-logs", "logger")
	id := e.run(t, sb, ContainerConfig{
		Name:    "echo",
		Image:   busybox,
		Command: []string{"sh", "-c"},
		Args:    []string{"echo hello from $GREETING; echo to-stderr >&2; exit 7"},
		Env:     []string{"GREETING=strom"},
	})
	ctxW, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	st, err := e.rt.WaitContainer(ctxW, id)
	if err != nil {
		t.Fatalf("WaitContainer: %v", err)
	}
	if st.State != StateExited || st.ExitCode != 7 {
		t.Fatalf("status = %s exit %d, want Exited 7", st.State, st.ExitCode)
	}
	if st.OOMKilled {
		t.Errorf("reported OOMKilled for a plain exit")
	}
	if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
		t.Errorf("times: started %v finished %v", st.StartedAt, st.FinishedAt)
	}
	want := LogPath(e.cfg.LogDir, "default", "logger", "uid-logs", "echo", 0)
	if st.LogPath != want {
		t.Fatalf("log path = %s, want %s", st.LogPath, want)
	}
	// The shim copies stdout and stderr to the file on its own; the last
	// bytes can land just after the exit is reported.
	waitFor(t, 5*time.Second, func() error {
		logs := readFile(t, st.LogPath)
		if !strings.Contains(logs, "hello from strom") || !strings.Contains(logs, "to-stderr") {
			return fmt.Errorf("log file = %q", logs)
		}
		return nil
	})
	if st.Name != "echo" || st.PodName != "logger" || st.PodNamespace != "default" || st.PodUID != "uid-logs" || st.RestartCount != 0 {
		t.Errorf("identity from labels = %+v", st)
	}
	// Starting an exited container is refused: a restart is a new container.
	if err := e.rt.StartContainer(ctx, id); err == nil {
		t.Errorf("starting an exited container succeeded")
	}
	// The next restart gets its own ID and log file.
	id2 := e.run(t, sb, ContainerConfig{Name: "echo", RestartCount: 1, Image: busybox, Command: []string{"echo", "second"}})
	if id2 == id {
		t.Fatalf("restart reused ID %s", id)
	}
	if _, err := e.rt.WaitContainer(ctxW, id2); err != nil {
		t.Fatalf("WaitContainer: %v", err)
	}
	waitFor(t, 5*time.Second, func() error {
		if got := readFile(t, LogPath(e.cfg.LogDir, "default", "logger", "uid-logs", "echo", 1)); got != "second" {
			return fmt.Errorf("second log = %q", got)
		}
		return nil
	})
	if _, err := e.rt.CreateContainer(ctx, sb, ContainerConfig{Name: "echo", RestartCount: 1, Image: busybox}); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("creating the same container twice: %v, want ErrAlreadyExists", err)
	}
}

func TestExecHostnameAndPodFiles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sb := e.sandbox(t, "uid-exec", "web-7f9c")
	if _, err := e.rt.SetSandboxIP(ctx, sb.PodUID, "10.244.0.5"); err != nil {
		t.Fatalf("SetSandboxIP: %v", err)
	}
	dataDir, cfgDir := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(cfgDir, "app.conf"), []byte("answer=42"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := e.run(t, sb, ContainerConfig{Name: "main", Image: busybox, Command: []string{"sleep", "3600"}, WorkingDir: "/tmp",
		Mounts: []Mount{{HostPath: dataDir, ContainerPath: "/data"}, {HostPath: cfgDir, ContainerPath: "/etc/app", ReadOnly: true}}})

	// Volumes: read-write and read-only bind mounts.
	if code, out := e.exec(t, id, "sh", "-c", "echo written > /data/out.txt && cat /etc/app/app.conf"); code != 0 || out != "answer=42" {
		t.Errorf("volume exec = %q exit %d", out, code)
	}
	if got := readFile(t, filepath.Join(dataDir, "out.txt")); got != "written" {
		t.Errorf("file written in the rw volume = %q", got)
	}
	if code, _ := e.exec(t, id, "touch", "/etc/app/new"); code == 0 {
		t.Errorf("writing into a read-only volume succeeded")
	}

	if code, out := e.exec(t, id, "hostname"); code != 0 || strings.TrimSpace(out) != "web-7f9c" {
		t.Errorf("hostname = %q (exit %d), want web-7f9c", out, code)
	}
	if _, out := e.exec(t, id, "cat", "/etc/hosts"); !strings.Contains(out, "10.244.0.5\tweb-7f9c") {
		t.Errorf("/etc/hosts = %q", out)
	}
	if _, out := e.exec(t, id, "cat", "/etc/resolv.conf"); !strings.Contains(out, "nameserver 10.96.0.10") || !strings.Contains(out, "options ndots:5") {
		t.Errorf("/etc/resolv.conf = %q", out)
	}
	if _, out := e.exec(t, id, "pwd"); strings.TrimSpace(out) != "/tmp" {
		t.Errorf("working dir = %q", out)
	}
	if code, _ := e.exec(t, id, "sh", "-c", "exit 3"); code != 3 {
		t.Errorf("exit code = %d, want 3", code)
	}
	var out strings.Builder
	code, err := e.rt.Exec(ctx, id, ExecConfig{Cmd: []string{"cat"}, Stdin: strings.NewReader("piped in"), Stdout: &out})
	if err != nil || code != 0 || out.String() != "piped in" {
		t.Errorf("exec with stdin: %q exit %d err %v", out.String(), code, err)
	}
	var tty strings.Builder
	code, err = e.rt.Exec(ctx, id, ExecConfig{Cmd: []string{"tty"}, TTY: true, Stdout: &tty})
	if err != nil || code != 0 || !strings.Contains(tty.String(), "/dev/pts/") {
		t.Errorf("exec with a TTY: %q exit %d err %v", tty.String(), code, err)
	}
	if code, out := e.exec(t, id, "tty"); code == 0 || strings.Contains(out, "/dev/pts/") {
		t.Errorf("exec without a TTY has one: %q exit %d", out, code)
	}
	// The pod's network namespace is the sandbox's, with only lo in it.
	if _, out := e.exec(t, id, "cat", "/proc/net/dev"); strings.Contains(out, "eth0") {
		t.Errorf("unexpected eth0 in a pod without network setup: %s", out)
	}
}

func TestResourceLimitsInCgroup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sb := e.sandbox(t, "uid-limits", "limited")
	id := e.run(t, sb, ContainerConfig{
		Name: "main", Image: busybox, Command: []string{"sleep", "3600"},
		Resources: Resources{MemoryLimitBytes: 64 << 20, CPULimitMillis: 250, CPURequestMillis: 100, PidsLimit: 42},
	})
	ctr, err := e.rt.Client().LoadContainer(e.rt.ns(ctx), id)
	if err != nil {
		t.Fatalf("loading container: %v", err)
	}
	spec, err := ctr.Spec(e.rt.ns(ctx))
	if err != nil {
		t.Fatalf("spec: %v", err)
	}
	if got := *spec.Linux.Resources.Memory.Limit; got != 64<<20 {
		t.Errorf("spec memory limit = %d", got)
	}
	cg := spec.Linux.CgroupsPath
	checks := map[string]string{
		filepath.Join("/sys/fs/cgroup/memory", cg, "memory.limit_in_bytes"): strconv.Itoa(64 << 20),
		filepath.Join("/sys/fs/cgroup/cpu", cg, "cpu.cfs_quota_us"):         "25000",
		filepath.Join("/sys/fs/cgroup/cpu", cg, "cpu.cfs_period_us"):        "100000",
		filepath.Join("/sys/fs/cgroup/cpu", cg, "cpu.shares"):               "102",
		filepath.Join("/sys/fs/cgroup/pids", cg, "pids.max"):                "42",
	}
	for path, want := range checks {
		if got := readFile(t, path); got != want {
			t.Errorf("%s = %s, want %s", path, got, want)
		}
	}
}

func TestOOMKillDetected(t *testing.T) {
	e := newEnv(t)
	sb := e.sandbox(t, "uid-oom", "hog")
	// dd allocates a buffer of bs bytes and touches it: 64 MiB in a 16 MiB
	// cgroup.
	id := e.run(t, sb, ContainerConfig{
		Name: "hog", Image: busybox,
		Command:   []string{"dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=4"},
		Resources: Resources{MemoryLimitBytes: 16 << 20},
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := e.rt.WaitContainer(ctx, id)
	if err != nil {
		t.Fatalf("WaitContainer: %v", err)
	}
	if st.ExitCode != 137 || !st.OOMKilled {
		t.Fatalf("exit %d oomKilled %v, want 137 true", st.ExitCode, st.OOMKilled)
	}
	if st.Labels[LabelOOMKilled] != "true" {
		// Labels in st were read before the label was set; read again.
		again, err := e.rt.ContainerStatus(ctx, id)
		if err != nil || again.Labels[LabelOOMKilled] != "true" {
			t.Errorf("OOM kill not remembered in a label: %v %v", again.Labels, err)
		}
	}
}

func TestStopWithGrace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sb := e.sandbox(t, "uid-stop", "stopper")
	polite := e.run(t, sb, ContainerConfig{
		Name: "polite", Image: busybox, Command: []string{"sh", "-c"},
		Args: []string{`trap 'echo got TERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done`},
	})
	stubborn := e.run(t, sb, ContainerConfig{Name: "stubborn", Image: busybox, Command: []string{"sleep", "3600"}})
	logPath := LogPath(e.cfg.LogDir, "default", "stopper", "uid-stop", "polite", 0)
	waitFor(t, 10*time.Second, func() error {
		b, _ := os.ReadFile(logPath)
		if !strings.Contains(string(b), "ready") {
			return fmt.Errorf("log %q", b)
		}
		return nil
	})

	start := time.Now()
	if err := e.rt.StopContainer(ctx, polite, 10*time.Second); err != nil {
		t.Fatalf("StopContainer polite: %v", err)
	}
	took := time.Since(start)
	st, err := e.rt.ContainerStatus(ctx, polite)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st.State != StateExited || st.ExitCode != 0 {
		t.Errorf("polite: %s exit %d, want Exited 0", st.State, st.ExitCode)
	}
	if took > 5*time.Second {
		t.Errorf("polite container took %v to stop on SIGTERM", took)
	}
	politeTook := took
	waitFor(t, 5*time.Second, func() error {
		if got := readFile(t, logPath); !strings.Contains(got, "got TERM") {
			return fmt.Errorf("polite log = %q", got)
		}
		return nil
	})

	// sleep as PID 1 ignores SIGTERM: it is killed after the grace period.
	start = time.Now()
	if err := e.rt.StopContainer(ctx, stubborn, time.Second); err != nil {
		t.Fatalf("StopContainer stubborn: %v", err)
	}
	took = time.Since(start)
	st, err = e.rt.ContainerStatus(ctx, stubborn)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if st.State != StateExited || st.ExitCode != 137 {
		t.Errorf("stubborn: %s exit %d, want Exited 137", st.State, st.ExitCode)
	}
	if took < time.Second || took > 6*time.Second {
		t.Errorf("stubborn stop took %v, want about the 1s grace", took)
	}
	t.Logf("polite stop %v, stubborn stop (1s grace) %v", politeTook, took)
	// Stopping again is a no-op.
	if err := e.rt.StopContainer(ctx, stubborn, time.Second); err != nil {
		t.Errorf("second stop: %v", err)
	}
}

func TestImagePolicies(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	img, err := e.rt.EnsureImage(ctx, busybox, PullNever, nil)
	if err != nil || img.Name != busybox || !strings.HasPrefix(img.Digest, "sha256:") || img.Size == 0 {
		t.Fatalf("EnsureImage Never on an imported image: %+v %v", img, err)
	}
	if _, err := e.rt.EnsureImage(ctx, busybox, PullIfNotPresent, nil); err != nil {
		t.Fatalf("EnsureImage IfNotPresent on an imported image: %v", err)
	}
	if _, err := e.rt.EnsureImage(ctx, "strom.test/absent:1", PullNever, nil); !errors.Is(err, ErrImageNeverPull) {
		t.Fatalf("Never on a missing image: %v, want ErrImageNeverPull", err)
	}
	if _, err := e.rt.EnsureImage(ctx, "Invalid//Name", PullIfNotPresent, nil); !errors.Is(err, ErrInvalidImageName) {
		t.Fatalf("invalid name: %v, want ErrInvalidImageName", err)
	}

	// A registry on loopback that knows no image, and requires no auth.
	var hits int
	reg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
		if r.URL.Path == "/v2/" {
			w.WriteHeader(http.StatusOK)
			return
		}
		http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}`, http.StatusNotFound)
	}))
	defer reg.Close()
	ref := strings.TrimPrefix(reg.URL, "http://") + "/nope/missing:1"
	_, err = e.rt.EnsureImage(ctx, ref, PullIfNotPresent, map[string]RegistryAuth{"127.0.0.1": {Username: "u", Password: "p"}})
	if !errors.Is(err, ErrImagePull) {
		t.Fatalf("pulling a missing image: %v, want ErrImagePull", err)
	}
	if hits == 0 {
		t.Fatalf("the pull never reached the registry")
	}
	if exists, err := e.rt.ImageExists(ctx, ref); err != nil || exists {
		t.Errorf("ImageExists after failed pull: %v %v", exists, err)
	}

	imgs, err := e.rt.ListImages(ctx)
	if err != nil {
		t.Fatalf("ListImages: %v", err)
	}
	names := map[string]bool{}
	for _, i := range imgs {
		names[i.Name] = true
	}
	if !names[busybox] || !names["strom.test/httpserver:1"] || len(imgs) != 2 {
		t.Errorf("ListImages = %v", names)
	}
	if err := e.rt.RemoveImage(ctx, "strom.test/httpserver:1"); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}
	if exists, err := e.rt.ImageExists(ctx, "strom.test/httpserver:1"); err != nil || exists {
		t.Errorf("image still exists after removal: %v %v", exists, err)
	}
	if err := e.rt.RemoveImage(ctx, "strom.test/httpserver:1"); err != nil {
		t.Errorf("removing a removed image: %v", err)
	}
}

func TestAdoptAfterRestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sb := e.sandbox(t, "uid-adopt", "survivor")
	id := e.run(t, sb, ContainerConfig{Name: "main", Image: busybox, Command: []string{"sh", "-c", "while true; do echo tick; sleep 0.1; done"},
		Labels: map[string]string{"strom.io/ignored": "x", "spec-hash": "abc123"}})
	before, err := e.rt.ContainerStatus(ctx, id)
	if err != nil || before.State != StateRunning {
		t.Fatalf("before: %+v %v", before, err)
	}
	if err := e.rt.Close(); err != nil {
		t.Fatalf("closing the first runtime: %v", err)
	}
	// With no agent connected, the container keeps logging.
	size := func() int64 {
		st, err := os.Stat(before.LogPath)
		if err != nil {
			t.Fatalf("log file: %v", err)
		}
		return st.Size()
	}
	closedAt := size()
	waitFor(t, 5*time.Second, func() error {
		if s := size(); s <= closedAt {
			return fmt.Errorf("log stayed at %d bytes", s)
		}
		return nil
	})

	// A new agent process: a new runtime over the same containerd and dirs.
	rt2 := newRuntime(t, e.cfg)
	e.rt = rt2
	sbs, err := rt2.ListSandboxes(ctx)
	if err != nil || len(sbs) != 1 || sbs[0].PodUID != "uid-adopt" || sbs[0].NetNSPath != sb.NetNSPath {
		t.Fatalf("ListSandboxes = %+v %v", sbs, err)
	}
	again, err := rt2.CreateSandbox(ctx, SandboxConfig{PodUID: "uid-adopt", Namespace: "default", Name: "survivor"})
	if err != nil || again.NetNSPath != sb.NetNSPath {
		t.Fatalf("CreateSandbox for an existing pod = %+v %v, want the same netns", again, err)
	}
	list, err := rt2.ListContainers(ctx, map[string]string{LabelPodUID: "uid-adopt"})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListContainers = %+v %v", list, err)
	}
	got := list[0]
	if got.ID != id || got.State != StateRunning || got.PID != before.PID || !got.StartedAt.Equal(before.StartedAt) {
		t.Errorf("adopted = %+v, before %+v", got, before)
	}
	if got.Name != "main" || got.PodName != "survivor" || got.Labels["spec-hash"] != "abc123" {
		t.Errorf("adopted labels = %v", got.Labels)
	}
	if _, ok := got.Labels["strom.io/ignored"]; ok {
		t.Errorf("a caller label under the reserved prefix was kept")
	}
	if other, err := rt2.ListContainers(ctx, map[string]string{LabelPodUID: "someone-else"}); err != nil || len(other) != 0 {
		t.Errorf("ListContainers for another pod = %v %v", other, err)
	}
	// Stop and remove through the new instance; the sandbox cleanup of
	// e.sandbox uses the old, closed runtime, so do it here.
	if err := rt2.StopContainer(ctx, id, 0); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := rt2.RemoveContainer(ctx, id); err != nil {
		t.Fatalf("remove: %v", err)
	}
	if err := rt2.RemoveContainer(ctx, id); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if _, err := rt2.ContainerStatus(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("status of removed container: %v", err)
	}
	snaps := 0
	err = rt2.Client().SnapshotService("overlayfs").Walk(rt2.ns(ctx), func(_ context.Context, info snapshotInfo) error {
		if info.Name == id {
			snaps++
		}
		return nil
	})
	if err != nil || snaps != 0 {
		t.Errorf("snapshot %s left after remove (%d, %v)", id, snaps, err)
	}
	if err := rt2.RemoveSandbox(ctx, "uid-adopt"); err != nil {
		t.Fatalf("RemoveSandbox: %v", err)
	}
}
