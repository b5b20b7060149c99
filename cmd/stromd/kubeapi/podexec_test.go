package kubeapi_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	"github.com/strom-project/strom/test/kubetools"
)

var protocols = []string{"websocket", "spdy"}

func TestExecStdinAndExitCode(t *testing.T) {
	e := startStreams(t)
	e.pod(t, "web", "n1", "app")
	for _, p := range protocols {
		t.Run(p, func(t *testing.T) {
			ex := kubetools.Executor(t, e.cfg, p, "default", "web", "exec", &corev1.PodExecOptions{Command: []string{"cat-exit", "3"}, Stdin: true, Stdout: true, Stderr: true})
			var out, errOut bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: strings.NewReader("hello\nworld\n"), Stdout: &out, Stderr: &errOut})
			var ce exec.CodeExitError
			if !errors.As(err, &ce) || ce.ExitStatus() != 3 {
				t.Fatalf("exec: %v (%T), want exit code 3", err, err)
			}
			if out.String() != "hello\nworld\n" || errOut.String() != "bye\n" {
				t.Errorf("stdout %q stderr %q", out.String(), errOut.String())
			}
			// Exit 0 is success.
			ex = kubetools.Executor(t, e.cfg, p, "default", "web", "exec", &corev1.PodExecOptions{Command: []string{"echo", "hi", "there"}, Stdout: true})
			out.Reset()
			if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out}); err != nil || out.String() != "hi there\n" {
				t.Errorf("echo: %q %v", out.String(), err)
			}
		})
	}
}

// fixedSize is a terminal that never changes size.
type fixedSize struct{ sent bool }

func (f *fixedSize) Next() *remotecommand.TerminalSize {
	if f.sent {
		return nil // no more changes
	}
	f.sent = true
	return &remotecommand.TerminalSize{Width: 132, Height: 43}
}

func TestExecTerminalSize(t *testing.T) {
	e := startStreams(t)
	e.pod(t, "web", "n1", "app")
	for _, p := range protocols {
		t.Run(p, func(t *testing.T) {
			ex := kubetools.Executor(t, e.cfg, p, "default", "web", "exec", &corev1.PodExecOptions{Command: []string{"size"}, Stdin: true, Stdout: true, TTY: true})
			var out bytes.Buffer
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			pr, pw := io.Pipe()
			defer pw.Close()
			err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: pr, Stdout: &out, Tty: true, TerminalSizeQueue: &fixedSize{}})
			if err != nil || out.String() != "132x43\n" {
				t.Errorf("terminal size: %q %v", out.String(), err)
			}
		})
	}
}

func TestExecErrors(t *testing.T) {
	e := startStreams(t)
	e.pod(t, "two", "n1", "a", "b")
	e.pod(t, "orphan", "ghost", "app")
	for _, p := range protocols {
		t.Run(p, func(t *testing.T) {
			run := func(pod string, o *corev1.PodExecOptions) error {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				// The streams given match the options, as kubectl's do
				// (client-go opens a stream for every writer it gets).
				var out bytes.Buffer
				return kubetools.Executor(t, e.cfg, p, "default", pod, "exec", o).StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: &out})
			}
			err := run("two", &corev1.PodExecOptions{Command: []string{"echo"}, Stdout: true})
			if err == nil || !strings.Contains(err.Error(), "a container name must be specified for pod two, choose one of: [a b]") {
				t.Errorf("no container: %v", err)
			}
			err = run("two", &corev1.PodExecOptions{Container: "c", Command: []string{"echo"}, Stdout: true})
			if err == nil || !strings.Contains(err.Error(), "container c is not valid for pod two") {
				t.Errorf("unknown container: %v", err)
			}
			err = run("missing", &corev1.PodExecOptions{Command: []string{"echo"}, Stdout: true})
			if err == nil || !strings.Contains(err.Error(), `pods "missing" not found`) {
				t.Errorf("missing pod: %v", err)
			}
			err = run("two", &corev1.PodExecOptions{Container: "a", Command: []string{"gone"}, Stdout: true})
			if err == nil || !strings.Contains(err.Error(), `container "a" of pod default/two is not running`) {
				t.Errorf("stopped container: %v", err)
			}
			err = run("orphan", &corev1.PodExecOptions{Command: []string{"echo"}, Stdout: true})
			if err == nil || !strings.Contains(err.Error(), "node ghost: the node agent is not answering") {
				t.Errorf("no agent: %v", err)
			}
		})
	}
	// Before any upgrade, refusals are plain API errors.
	body, err := e.cs.CoreV1().RESTClient().Post().Namespace("default").Resource("pods").Name("two").SubResource("exec").
		Param("container", "a").Param("command", "echo").DoRaw(context.Background())
	if !apierrors.IsBadRequest(err) || !strings.Contains(string(body), "you must specify at least 1 of stdin, stdout, stderr") {
		t.Errorf("no streams: %v %s", err, body)
	}
}

func TestAttachFollowsTheOutput(t *testing.T) {
	e := startStreams(t)
	p := e.pod(t, "web", "n1", "app")
	p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()}}}}
	if _, err := e.cs.CoreV1().Pods("default").UpdateStatus(context.Background(), p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	path := e.writeLog(t, "web", "app", "before\n")
	for _, proto := range protocols {
		t.Run(proto, func(t *testing.T) {
			ex := kubetools.Executor(t, e.cfg, proto, "default", "web", "attach", &corev1.PodAttachOptions{Stdin: true, Stdout: true, Stderr: true})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out := &kubetools.SyncBuffer{}
			done := make(chan error, 1)
			stdin, stdinW := io.Pipe()
			defer stdinW.Close()
			go func() {
				done <- ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: stdin, Stdout: out, Stderr: out})
			}()
			// Only output written after attaching comes.
			deadline := time.Now().Add(20 * time.Second)
			for !strings.Contains(out.String(), "after\n") && time.Now().Before(deadline) {
				e.writeLog(t, "web", "app", "after\n")
				time.Sleep(300 * time.Millisecond)
			}
			if s := out.String(); !strings.HasPrefix(s, "after\n") {
				t.Fatalf("attached output %q", s)
			}
			if proto == "spdy" {
				e.pods.endRun(path) // the run ends: so does the attach
				if err := <-done; err != nil {
					t.Errorf("attach ended with %v", err)
				}
			} else {
				cancel()
				<-done
			}
		})
	}
	body, err := e.cs.CoreV1().RESTClient().Post().Namespace("default").Resource("pods").Name("web").SubResource("attach").
		Param("stdout", "true").Param("tty", "true").DoRaw(context.Background())
	if !apierrors.IsBadRequest(err) || !strings.Contains(string(body), "container app in pod web has no terminal") {
		t.Errorf("attach with a terminal: %v %s", err, body)
	}
}
