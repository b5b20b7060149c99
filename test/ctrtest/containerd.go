package ctrtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/namespaces"
)

// Binary is the containerd daemon the tests run.
const Binary = "/usr/bin/containerd"

// Containerd is a private containerd daemon started for one test.
type Containerd struct {
	Dir     string // parent of root, state and the socket
	Root    string
	State   string
	Address string // unix socket path
	Log     string // daemon's stderr
	// Namespace is a containerd namespace unique to this daemon; use it so
	// that host-wide leftovers (cgroups, runc state) never collide with
	// another test's.
	Namespace string
	seen      map[string]bool // namespaces seen at cleanup
	cmd       *exec.Cmd
	exited    chan struct{}
}

const config = `version = 2
root = %q
state = %q
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.internal.v1.tracing",
  "io.containerd.tracing.processor.v1.otlp",
]

[grpc]
  address = %q

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = %q
`

// RequireRoot fails the test when it is not running as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatalf("this integration test needs root (containerd, network namespaces, CNI): run it as root, e.g. sudo -E go test ...")
	}
}

// Start launches a private containerd and registers its teardown with
// t.Cleanup. It fails the test if containerd is missing or does not answer
// within 20 seconds.
func Start(t testing.TB) *Containerd {
	t.Helper()
	RequireRoot(t)
	if _, err := os.Stat(Binary); err != nil {
		t.Fatalf("%s not found (%v): apt-get install -y containerd runc", Binary, err)
	}
	// A short path: unix socket paths are limited to 108 bytes.
	dir, err := os.MkdirTemp("", "ctrtest-")
	if err != nil {
		t.Fatalf("creating containerd dir: %v", err)
	}
	c := &Containerd{
		Dir:     dir,
		Root:    filepath.Join(dir, "root"),
		State:   filepath.Join(dir, "state"),
		Address: filepath.Join(dir, "c.sock"),
		Log:     filepath.Join(dir, "containerd.log"),
		seen:    map[string]bool{},
	}
	c.Namespace = "ctrtest-" + strings.TrimPrefix(filepath.Base(dir), "ctrtest-")
	cfg := fmt.Sprintf(config, c.Root, c.State, c.Address, filepath.Join(dir, "opt"))
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o644); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("writing containerd config: %v", err)
	}
	if err := c.launch(); err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() { c.stop(t) })
	c.waitServing(t)
	return c
}

// launch starts the daemon process.
func (c *Containerd) launch() error {
	logf, err := os.OpenFile(c.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("creating containerd log: %w", err)
	}
	c.cmd = exec.Command(Binary, "--config", filepath.Join(c.Dir, "config.toml"))
	c.cmd.Stdout = logf
	c.cmd.Stderr = logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("starting containerd: %w", err)
	}
	exited := make(chan struct{})
	c.exited = exited
	cmd := c.cmd
	go func() {
		_ = cmd.Wait()
		logf.Close()
		close(exited)
	}()
	return nil
}

// waitServing fails the test unless the daemon answers within 20 s.
func (c *Containerd) waitServing(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := c.ping()
		if err == nil {
			return
		}
		select {
		case <-c.exited:
			t.Fatalf("containerd exited early: %s", c.logTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("containerd did not answer on %s: %v\n%s", c.Address, err, c.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Kill stops the daemon with SIGKILL, as a crash would: containers and
// their shims keep running, the socket stops answering. Restart brings it
// back with the same state.
func (c *Containerd) Kill(t testing.TB) {
	t.Helper()
	_ = c.cmd.Process.Kill()
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("containerd pid %d did not exit after SIGKILL", c.cmd.Process.Pid)
	}
	_ = os.Remove(c.Address)
}

// Restart starts the daemon again after Kill, with the same root, state
// and socket, and waits until it answers.
func (c *Containerd) Restart(t testing.TB) {
	t.Helper()
	select {
	case <-c.exited:
	default:
		t.Fatalf("ctrtest: Restart of a containerd that is still running (pid %d)", c.cmd.Process.Pid)
	}
	if err := c.launch(); err != nil {
		t.Fatal(err)
	}
	c.waitServing(t)
}

func (c *Containerd) ping() error {
	if _, err := os.Stat(c.Address); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	cl, err := containerd.New(c.Address, containerd.WithTimeout(2*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	_, err = cl.Version(ctx)
	return err
}

// Client returns a new client of the daemon, closed at the end of the test.
func (c *Containerd) Client(t testing.TB) *containerd.Client {
	t.Helper()
	cl, err := containerd.New(c.Address)
	if err != nil {
		t.Fatalf("connecting to containerd at %s: %v", c.Address, err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func (c *Containerd) logTail() string {
	b, _ := os.ReadFile(c.Log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop deletes what tests left behind, stops the daemon and removes its
// directories. Failures are reported with t.Errorf: a leak is a bug.
func (c *Containerd) stop(t testing.TB) {
	select {
	case <-c.exited:
	default:
		if err := c.deleteAll(); err != nil {
			t.Errorf("ctrtest: deleting leftover containers: %v", err)
		}
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.exited
		}
	}
	for _, pid := range c.shimPIDs() {
		t.Logf("ctrtest: killing leftover shim pid %d", pid)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	c.removeHostState(t)
	if err := UnmountUnder(c.Dir); err != nil {
		t.Errorf("ctrtest: %v", err)
	}
	if err := os.RemoveAll(c.Dir); err != nil {
		t.Errorf("ctrtest: removing %s: %v", c.Dir, err)
	}
}

// deleteAll kills and deletes every task and container in every namespace.
func (c *Containerd) deleteAll() error {
	cl, err := containerd.New(c.Address, containerd.WithTimeout(5*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nss, err := cl.NamespaceService().List(ctx)
	if err != nil {
		return fmt.Errorf("listing namespaces: %w", err)
	}
	var errs []string
	for _, ns := range nss {
		c.seen[ns] = true
		nctx := namespaces.WithNamespace(ctx, ns)
		ctrs, err := cl.Containers(nctx)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		for _, ctr := range ctrs {
			if task, err := ctr.Task(nctx, nil); err == nil {
				if _, err := task.Delete(nctx, containerd.WithProcessKill); err != nil {
					errs = append(errs, fmt.Sprintf("deleting task %s: %v", ctr.ID(), err))
				}
			}
			if err := ctr.Delete(nctx, containerd.WithSnapshotCleanup); err != nil {
				errs = append(errs, fmt.Sprintf("deleting container %s: %v", ctr.ID(), err))
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return nil
}

// shimPIDs lists containerd shims started by this daemon: their command line
// names its socket.
func (c *Containerd) shimPIDs() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscanf(e.Name(), "%d", &pid); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := bytes.Split(cmdline, []byte{0})
		if len(args) == 0 || !bytes.Contains(args[0], []byte("containerd-shim")) {
			continue
		}
		if bytes.Contains(cmdline, []byte(c.Address)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// removeHostState removes the per-namespace directories that runc and the
// cgroup drivers leave on the host once all containers are gone: the parent
// cgroups /sys/fs/cgroup/<controller>/<namespace> and the runc root
// /run/containerd/runc/<namespace>. Only empty directories are removed.
func (c *Containerd) removeHostState(t testing.TB) {
	for ns := range c.seen {
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", ns))
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", ns), filepath.Join("/run/containerd/runc", ns))
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && err != syscall.ENOENT {
				t.Logf("ctrtest: leaving %s: %v", d, err)
			}
		}
	}
}
