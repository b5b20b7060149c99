package runtime

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/containerd/snapshots"
	"github.com/strom-project/strom/test/ctrtest"
	"github.com/strom-project/strom/test/images"
	"go.uber.org/zap/zaptest"
)

var (
	imagesOnce sync.Once
	imagesDir  string
	imagesErr  error
	archives   []images.Archive
	logDriver  string // built agent/runtime/logdriver
)

// testImages builds the test image archives once per test binary.
func testImages(t *testing.T) []images.Archive {
	t.Helper()
	imagesOnce.Do(func() {
		imagesDir, imagesErr = os.MkdirTemp("", "strom-runtime-images-")
		if imagesErr != nil {
			return
		}
		archives, imagesErr = images.BuildAll(context.Background(), imagesDir)
		if imagesErr != nil {
			return
		}
		logDriver = filepath.Join(imagesDir, "logdriver")
		cmd := exec.Command("go", "build", "-o", logDriver, "github.com/strom-project/strom/agent/runtime/logdriver")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			imagesErr = fmt.Errorf("building the log driver: %v: %s", err, out)
		}
	})
	if imagesErr != nil {
		t.Fatalf("building test images: %v", imagesErr)
	}
	return archives
}

func TestMain(m *testing.M) {
	code := m.Run()
	if imagesDir != "" {
		os.RemoveAll(imagesDir)
	}
	os.Exit(code)
}

// env is one integration test's containerd and runtime.
type env struct {
	ctr *ctrtest.Containerd
	rt  *Containerd
	cfg Config
}

// newEnv starts a private containerd, a runtime over it, and imports the
// test images.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctrtest.RequireRoot(t)
	arch := testImages(t)
	c := ctrtest.Start(t)
	base := t.TempDir()
	cfg := Config{
		Address:   c.Address,
		Namespace: c.Namespace,
		StateDir:  filepath.Join(base, "state"),
		NetNSDir:  filepath.Join(base, "netns"),
		LogDir:    filepath.Join(base, "logs"),
		FIFODir:   filepath.Join(base, "fifo"),
		LogDriver: logDriver,
		Logger:    zaptest.NewLogger(t),
	}
	t.Cleanup(func() {
		if err := ctrtest.UnmountUnder(base); err != nil {
			t.Errorf("unmounting under %s: %v", base, err)
		}
	})
	rt := newRuntime(t, cfg)
	e := &env{ctr: c, rt: rt, cfg: cfg}
	// Close whichever runtime the test ends with, after its sandboxes.
	t.Cleanup(func() { e.rt.Close() })
	ctx := context.Background()
	for _, a := range arch {
		f, err := os.Open(a.Path)
		if err != nil {
			t.Fatalf("opening %s: %v", a.Path, err)
		}
		names, err := rt.ImportImage(ctx, f)
		f.Close()
		if err != nil {
			t.Fatalf("importing %s: %v", a.Path, err)
		}
		if len(names) != 1 || names[0] != a.Name {
			t.Fatalf("importing %s gave %v, want [%s]", a.Path, names, a.Name)
		}
	}
	return e
}

func newRuntime(t *testing.T, cfg Config) *Containerd {
	t.Helper()
	rt, err := NewContainerd(context.Background(), cfg)
	if err != nil {
		t.Fatalf("NewContainerd: %v", err)
	}
	return rt
}

// sandbox creates a pod sandbox removed at the end of the test, after its
// containers.
func (e *env) sandbox(t *testing.T, uid, name string) Sandbox {
	t.Helper()
	ctx := context.Background()
	sb, err := e.rt.CreateSandbox(ctx, SandboxConfig{
		PodUID: uid, Namespace: "default", Name: name,
		DNS: DNSConfig{Nameservers: []string{"10.96.0.10"}, Searches: []string{"default.svc.cluster.local"}, Options: []string{"ndots:5"}},
	})
	if err != nil {
		t.Fatalf("CreateSandbox: %v", err)
	}
	t.Cleanup(func() {
		ctrs, err := e.rt.ListContainers(ctx, map[string]string{LabelPodUID: uid})
		if err != nil {
			t.Errorf("listing containers of %s: %v", uid, err)
		}
		for _, c := range ctrs {
			if err := e.rt.RemoveContainer(ctx, c.ID); err != nil {
				t.Errorf("removing %s: %v", c.ID, err)
			}
		}
		if err := e.rt.RemoveSandbox(ctx, uid); err != nil {
			t.Errorf("removing sandbox %s: %v", uid, err)
		}
		if _, err := os.Stat(sb.NetNSPath); !os.IsNotExist(err) {
			t.Errorf("netns %s still exists after RemoveSandbox: %v", sb.NetNSPath, err)
		}
	})
	return sb
}

// run creates and starts a container and returns its ID.
func (e *env) run(t *testing.T, sb Sandbox, cfg ContainerConfig) string {
	t.Helper()
	ctx := context.Background()
	id, err := e.rt.CreateContainer(ctx, sb, cfg)
	if err != nil {
		t.Fatalf("CreateContainer %s: %v", cfg.Name, err)
	}
	if err := e.rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer %s: %v", cfg.Name, err)
	}
	return id
}

// exec runs a command in a container and returns its exit code and output.
func (e *env) exec(t *testing.T, id string, cmd ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code, err := e.rt.Exec(ctx, id, ExecConfig{Cmd: cmd, Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("exec %v in %s: %v", cmd, id, err)
	}
	return code, out.String()
}

// waitFor polls f until it returns nil or the deadline passes.
func waitFor(t *testing.T, total time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v: %v", total, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return strings.TrimSpace(string(b))
}

type snapshotInfo = snapshots.Info
