package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/util/exec"

	"github.com/strom-project/strom/test/kubetools"
	"github.com/strom-project/strom/test/logtest"
)

// The pods' streaming subresources over HTTPS on a real node, driven as
// kubectl drives them (client-go's executors and port forwarder, both
// protocols each): logs, exec, attach and port forwarding reach real
// containers through the node agent.
func TestPodStreamsOverHTTPS(t *testing.T) {
	n := startRealNodeWith(t, nodeOptions{kubeAPI: true})
	cfg, err := clientcmd.BuildConfigFromFlags("", n.d.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	n.apply(t, `apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: strom.test/busybox:1
    command: [sh, -c, 'i=0; while true; do echo "line $i"; i=$((i+1)); sleep 0.2; done']
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: node-1
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: strom.test/httpserver:1
    ports: [{name: http, containerPort: 8080}]
  - name: shell
    image: strom.test/busybox:1
    command: [sleep, "3600"]
`)
	for _, name := range []string{"talker", "web"} {
		logtest.Eventually(t, 90*time.Second, func() error {
			p, err := n.pod(t, name)
			if err != nil {
				return err
			}
			for _, c := range p.Status.ContainerStatuses {
				if c.State.Running == nil {
					return fmt.Errorf("%s: container %s not running: %+v", name, c.Name, c.State)
				}
			}
			if p.Status.Phase != corev1.PodRunning {
				return fmt.Errorf("%s: phase %q", name, p.Status.Phase)
			}
			return nil
		})
	}
	ctx := context.Background()
	pods := cs.CoreV1().Pods("default")

	t.Run("logs", func(t *testing.T) {
		logtest.Eventually(t, 30*time.Second, func() error {
			out, err := readLogs(ctx, pods, "talker", &corev1.PodLogOptions{})
			if err != nil || strings.Count(out, "\n") < 5 {
				return fmt.Errorf("logs so far: %q %v", out, err)
			}
			return nil
		})
		tail := int64(2)
		out, err := readLogs(ctx, pods, "talker", &corev1.PodLogOptions{TailLines: &tail, Timestamps: true})
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 2 {
			t.Fatalf("tailLines=2 with timestamps: %q", out)
		}
		var stamps []time.Time
		for _, l := range lines {
			ts, text, _ := strings.Cut(l, " ")
			at, err := time.Parse(time.RFC3339Nano, ts)
			if err != nil || !strings.HasPrefix(text, "line ") || time.Since(at) > time.Minute || time.Until(at) > time.Second {
				t.Fatalf("timestamped line %q: %v", l, err)
			}
			stamps = append(stamps, at)
		}
		// The container writes a line every 0.2 s: so do its stamps.
		if d := stamps[1].Sub(stamps[0]); d < 100*time.Millisecond || d > time.Second {
			t.Errorf("lines written %v apart, want about 200ms: %q", d, out)
		}
		since := int64(1)
		out, err = readLogs(ctx, pods, "talker", &corev1.PodLogOptions{SinceSeconds: &since})
		if n := strings.Count(out, "\n"); err != nil || n < 2 || n > 10 {
			t.Errorf("sinceSeconds=1: %d lines, %v: %q", n, err, out)
		}
		limit := int64(7)
		if out, err := readLogs(ctx, pods, "talker", &corev1.PodLogOptions{LimitBytes: &limit}); err != nil || out != "line 0\n" {
			t.Errorf("limitBytes=7: %q %v", out, err)
		}
		// Follow: new lines keep coming.
		fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		rc, err := pods.GetLogs("talker", &corev1.PodLogOptions{Follow: true, TailLines: &tail}).Stream(fctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		r := bufio.NewReader(rc)
		start := time.Now()
		for i := 0; i < 6; i++ {
			if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "line ") {
				t.Fatalf("followed line %d: %q %v", i, l, err)
			}
		}
		t.Logf("6 followed lines (2 old, 4 new) in %v", time.Since(start))
		// A pod of several containers needs a name.
		_, err = readLogs(ctx, pods, "web", &corev1.PodLogOptions{})
		if err == nil || err.Error() != "a container name must be specified for pod web, choose one of: [web shell]" {
			t.Errorf("logs of web without a container: %v", err)
		}
	})

	for _, proto := range []string{"websocket", "spdy"} {
		t.Run("exec/"+proto, func(t *testing.T) {
			ex := kubetools.Executor(t, cfg, proto, "default", "web", "exec", &corev1.PodExecOptions{
				Container: "shell", Command: []string{"sh", "-c", "cat; exit 3"}, Stdin: true, Stdout: true, Stderr: true})
			var out, errOut bytes.Buffer
			ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			start := time.Now()
			err := ex.StreamWithContext(ectx, remotecommand.StreamOptions{Stdin: strings.NewReader("hello\nfrom stdin\n"), Stdout: &out, Stderr: &errOut})
			var ce exec.CodeExitError
			if !errors.As(err, &ce) || ce.ExitStatus() != 3 {
				t.Fatalf("exec: %v, want exit code 3 (stderr %q)", err, errOut.String())
			}
			if out.String() != "hello\nfrom stdin\n" {
				t.Errorf("exec stdout %q", out.String())
			}
			t.Logf("exec with stdin and exit code: %v", time.Since(start))

			// A terminal of the client's size.
			ex = kubetools.Executor(t, cfg, proto, "default", "web", "exec", &corev1.PodExecOptions{
				Container: "shell", Command: []string{"sh", "-c", `for i in $(seq 50); do s=$(stty size 2>&1); case "$s" in [1-9]*) break;; esac; sleep 0.1; done; echo "size $s"`},
				Stdin: true, Stdout: true, TTY: true})
			out.Reset()
			pr, pw := io.Pipe()
			defer pw.Close()
			err = ex.StreamWithContext(ectx, remotecommand.StreamOptions{Stdin: pr, Stdout: &out, Tty: true, TerminalSizeQueue: &oneSize{w: 120, h: 40}})
			if err != nil || !strings.Contains(out.String(), "size 40 120") {
				t.Errorf("tty: %q %v", out.String(), err)
			}
		})

		t.Run("attach/"+proto, func(t *testing.T) {
			ex := kubetools.Executor(t, cfg, proto, "default", "talker", "attach", &corev1.PodAttachOptions{Stdout: true, Stderr: true})
			actx, cancel := context.WithCancel(ctx)
			defer cancel()
			out := &kubetools.SyncBuffer{}
			done := make(chan error, 1)
			go func() { done <- ex.StreamWithContext(actx, remotecommand.StreamOptions{Stdout: out, Stderr: out}) }()
			logtest.Eventually(t, 20*time.Second, func() error {
				if strings.Count(out.String(), "\n") < 3 {
					return fmt.Errorf("attached output so far %q", out.String())
				}
				return nil
			})
			cancel()
			<-done
		})

		t.Run("portforward/"+proto, func(t *testing.T) {
			local := kubetools.PortForward(t, cfg, proto, "default", "web", 8080)
			c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			start := time.Now()
			resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/", local))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(body) != "web\n" {
				t.Fatalf("GET / through the forwarded port: %q", body)
			}
			t.Logf("first request through the forwarded port: %v", time.Since(start))
			start = time.Now()
			for i := 0; i < 20; i++ {
				resp, err := c.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", local))
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(body) != "ok\n" {
					t.Fatalf("healthz: %q", body)
				}
			}
			t.Logf("20 requests, one connection each: %v per request", time.Since(start)/20)
		})
	}
}

func readLogs(ctx context.Context, pods interface {
	GetLogs(string, *corev1.PodLogOptions) *restclient.Request
}, name string, o *corev1.PodLogOptions) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	rc, err := pods.GetLogs(name, o).Stream(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

// oneSize is a terminal of one size.
type oneSize struct {
	w, h uint16
	sent bool
}

func (o *oneSize) Next() *remotecommand.TerminalSize {
	if o.sent {
		return nil // no more changes
	}
	o.sent = true
	return &remotecommand.TerminalSize{Width: o.w, Height: o.h}
}
