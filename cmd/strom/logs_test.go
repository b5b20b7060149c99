package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/strom-project/strom/agent/nodeapi"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events/api"
)

// fakePods serves one pod's log file and an exec that echoes stdin.
type fakePods struct{ dir string }

func (f *fakePods) ContainerLogPath(ns, pod, container string, previous bool) (string, error) {
	if pod != "p" || container != "c" {
		return "", fmt.Errorf("container %s/%s/%s not found on this node", ns, pod, container)
	}
	if previous {
		return filepath.Join(f.dir, "c.0.log"), nil
	}
	return filepath.Join(f.dir, "c.1.log"), nil
}

func (f *fakePods) Exec(ctx context.Context, ns, pod, container string, cfg runtime.ExecConfig) (int, error) {
	fmt.Fprintf(cfg.Stdout, "ran %s\n", strings.Join(cfg.Cmd, " "))
	if cfg.Stdin != nil {
		if _, err := io.Copy(cfg.Stdout, cfg.Stdin); err != nil {
			return 0, err
		}
	}
	fmt.Fprint(cfg.Stderr, "to stderr\n")
	return 3, nil
}

func TestLogsAndExecThroughTheNodeAgent(t *testing.T) {
	c := newQuietCluster(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "c.0.log"), []byte("old run\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.1.log"), []byte("one\ntwo\nthree\n"), 0o644)
	// The node agent side, connected with the node's own credential.
	cfg, err := c.d.NodeConfig("n1")
	if err != nil {
		t.Fatal(err)
	}
	ac, err := api.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := nodeapi.Serve(ctx, ac.Conn(), "n1", &fakePods{dir: dir}, zap.NewNop()); err != nil {
		t.Fatal(err)
	}
	_, _, code := c.strom(`apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  nodeName: n1
  containers: [{name: c, image: busybox}]
`, "apply", "-f", "-")
	if code != 0 {
		t.Fatal("apply pod failed")
	}
	if out := c.mustStrom("logs", "p"); out != "one\ntwo\nthree\n" {
		t.Fatalf("logs: %q", out)
	}
	if out := c.mustStrom("logs", "p", "--tail", "2"); out != "two\nthree\n" {
		t.Fatalf("logs --tail 2: %q", out)
	}
	if out := c.mustStrom("logs", "p", "--previous"); out != "old run\n" {
		t.Fatalf("logs --previous: %q", out)
	}
	_, errOut, code := c.strom("", "logs", "p", "-c", "nope")
	if code != 1 || !strings.Contains(errOut, "container nope is not valid for pod p") {
		t.Fatalf("bad container: %d %q", code, errOut)
	}
	var out, errb bytes.Buffer
	code = run([]string{"--config", c.d.AdminConfig, "exec", "p", "-i", "--", "cat", "-n"}, strings.NewReader("hello\n"), &out, &errb)
	if code != 3 {
		t.Fatalf("exec exit code %d, want the command's 3 (stderr %q)", code, errb.String())
	}
	if out.String() != "ran cat -n\nhello\n" || errb.String() != "to stderr\n" {
		t.Fatalf("exec stdout %q stderr %q", out.String(), errb.String())
	}
	// A pod on a node without an agent: a clear error.
	c.strom("apiVersion: v1\nkind: Pod\nmetadata: {name: q}\nspec:\n  nodeName: ghost\n  containers: [{name: c, image: busybox}]\n", "apply", "-f", "-")
	_, errOut, code = c.strom("", "logs", "q")
	if code != 1 || !strings.Contains(errOut, "node ghost: the node agent is not answering") {
		t.Fatalf("no agent: %d %q", code, errOut)
	}
}
