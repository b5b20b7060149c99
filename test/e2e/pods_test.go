package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/containerd/pkg/netns"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/ctrtest"
	"github.com/strom-project/strom/test/images"
	"github.com/strom-project/strom/test/logtest"
)

// realNode runs a real agent (private containerd, CNI inside a network
// namespace acting as the node) against an in-process stromd.
type realNode struct {
	d      *app.Stromd
	ctr    *ctrtest.Containerd // the node's containerd
	admin  *api.Client
	config string // admin.conf for the CLI binary
	imgDir string // the test images' archives
	netns  *netns.NetNS
}

// startRealNode starts it; services, if not nil, turns on the node's
// service proxy and DNS.
func startRealNode(t testing.TB, services *agent.ServicesConfig) *realNode {
	t.Helper()
	return startRealNodeWith(t, nodeOptions{services: services})
}

// nodeOptions vary startRealNodeWith.
type nodeOptions struct {
	services     *agent.ServicesConfig
	runtimeDown  bool          // containerd is killed before the agent starts
	runtimeCheck time.Duration // agent.Config.RuntimeCheck
	pressure     *agent.PressureThresholds
	cniDirs      []string // agent.RealConfig.CNIPluginDirs
	kubeAPI      bool     // serve the Kubernetes HTTPS API (kubeconfig in n.d.Kubeconfig)
}

func startRealNodeWith(t testing.TB, o nodeOptions) *realNode {
	t.Helper()
	ctrtest.RequireRoot(t)
	ctr := ctrtest.Start(t)
	if o.runtimeDown {
		ctr.Kill(t)
	}
	services := o.services
	node := ctrtest.NewNetNS(t)
	dir := t.TempDir()
	// Pods still running at the end keep their netns pins mounted under
	// dir; unmount them before the directory is removed.
	t.Cleanup(func() {
		if err := ctrtest.UnmountUnder(dir); err != nil {
			t.Errorf("unmounting under %s: %v", dir, err)
		}
	})
	imgDir := filepath.Join(dir, "images")
	if _, err := images.BuildAll(context.Background(), imgDir); err != nil {
		t.Fatalf("building test images: %v", err)
	}
	d := clustertest.StartStromd(t, func(c *app.Config) {
		if o.kubeAPI {
			c.APIListen = "127.0.0.1:0"
		}
	})
	cfg, err := d.NodeConfig("node-1") // the node's own credential, as after joining
	if err != nil {
		t.Fatal(err)
	}
	ac, err := api.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ac.Close)
	self, _ := os.Executable()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	rc := agent.RealConfig{
		ContainerdAddress: ctr.Address, Namespace: ctr.Namespace,
		RootDir: filepath.Join(dir, "agent"), RunDir: filepath.Join(dir, "run"), LogDir: filepath.Join(dir, "logs"),
		LogDriver: self, ImageDir: imgDir, HostNetNS: node.GetPath(), Conn: ac.Conn(),
		ProbeDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialIn(ctx, node, network, addr)
		},
		Services: services, Pressure: o.pressure, CNIPluginDirs: o.cniDirs,
	}
	go func() {
		info := agent.HostSystemInfo("/")
		done <- agent.Run(ctx, agent.Config{NodeName: "node-1", NodeIP: "10.99.0.1", SystemInfo: &info, Client: ac, Conn: ac.Conn(),
			Pods: agent.RealPods(rc), WaitForPodCIDR: true, Resync: 2 * time.Second, RuntimeCheck: o.runtimeCheck, PressureCheck: time.Second})
	}()
	// Stop the agent before containerd and the netns go (cleanups run LIFO).
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("agent did not stop")
		}
	})
	return &realNode{d: d, ctr: ctr, admin: clustertest.AdminClient(t, d), config: d.AdminConfig, imgDir: imgDir, netns: node}
}

func (n *realNode) apply(t testing.TB, manifest string) {
	t.Helper()
	out, err := exec.Command(filepath.Join(binDir, "strom"), "--config", n.config, "apply", "-f", writeTemp(t, manifest)).CombinedOutput()
	if err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
}

func (n *realNode) strom(t testing.TB, args ...string) (string, error) {
	out, err := exec.Command(filepath.Join(binDir, "strom"), append([]string{"--config", n.config}, args...)...).CombinedOutput()
	return string(out), err
}

func writeTemp(t testing.TB, s string) string {
	p := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (n *realNode) pod(t testing.TB, name string) (*corev1.Pod, error) {
	resp, err := n.admin.Do(context.Background(), api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: name})
	if err != nil {
		return nil, err
	}
	var p corev1.Pod
	return &p, json.Unmarshal(resp.Object, &p)
}

func TestRealPodsEndToEnd(t *testing.T) {
	n := startRealNode(t, nil)
	// The node reports the machine and its runtime as kubelet does:
	// strom get nodes -o wide shows them.
	logtest.Eventually(t, 20*time.Second, func() error {
		out, err := n.strom(t, "get", "nodes", "-o", "wide")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 2 || !strings.Contains(lines[0], "CONTAINER-RUNTIME") {
			return fmt.Errorf("get nodes -o wide: %q", out)
		}
		kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
		for _, want := range []string{"10.99.0.1", strings.TrimSpace(string(kernel)), "containerd://1."} {
			if !strings.Contains(lines[1], want) {
				return fmt.Errorf("node row %q lacks %q", lines[1], want)
			}
		}
		return nil
	})
	n.apply(t, `apiVersion: v1
kind: ConfigMap
metadata: {name: greeting}
data: {word: hello}
---
apiVersion: v1
kind: Pod
metadata: {name: echo, labels: {app: echo}}
spec:
  nodeName: node-1
  restartPolicy: Never
  containers:
  - name: main
    image: strom.test/busybox:1
    command: [sh, -c, 'echo "$WORD from $(hostname) as $POD_NAME"']
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: WORD, valueFrom: {configMapKeyRef: {name: greeting, key: word}}}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  nodeName: node-1
  containers:
  - name: web
    image: strom.test/httpserver:1
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 1
---
apiVersion: v1
kind: Pod
metadata: {name: missing-image}
spec:
  nodeName: node-1
  containers:
  - {name: c, image: strom.test/nope:1, imagePullPolicy: Never}
`)
	logtest.Eventually(t, 60*time.Second, func() error {
		p, err := n.pod(t, "echo")
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodSucceeded {
			return fmt.Errorf("echo phase %q", p.Status.Phase)
		}
		return nil
	})
	out, err := n.strom(t, "logs", "echo")
	if err != nil || out != "hello from echo as echo\n" {
		t.Fatalf("strom logs echo: %v %q", err, out)
	}
	logtest.Eventually(t, 60*time.Second, func() error {
		p, err := n.pod(t, "web")
		if err != nil {
			return err
		}
		ready := false
		for _, c := range p.Status.Conditions {
			ready = ready || (c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue)
		}
		if !ready || !strings.HasPrefix(p.Status.PodIP, "10.42.0.") {
			return fmt.Errorf("web not ready: phase %q ip %q", p.Status.Phase, p.Status.PodIP)
		}
		return nil
	})
	out, err = n.strom(t, "exec", "web", "--", "/bin/sh", "-c", "echo in $(hostname); exit 4")
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 || out != "in web\n" {
		t.Fatalf("exec: %v %q, want exit 4 and the pod's hostname", err, out)
	}
	logtest.Eventually(t, 60*time.Second, func() error {
		p, err := n.pod(t, "missing-image")
		if err != nil {
			return err
		}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.State.Waiting != nil && cs.State.Waiting.Reason == "ErrImageNeverPull" {
				return nil
			}
		}
		return fmt.Errorf("missing-image status %+v", p.Status.ContainerStatuses)
	})
	// Graceful delete: the node stops the containers, then the pod is gone.
	if out, err := n.strom(t, "delete", "pod", "web"); err != nil {
		t.Fatalf("delete: %v %s", err, out)
	}
	logtest.Eventually(t, 60*time.Second, func() error {
		_, err := n.pod(t, "web")
		if events.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("web still there: %v", err)
	})
	// Images on the node: list, remove, import again.
	out, err = n.strom(t, "image", "ls")
	if err != nil || !strings.Contains(out, "strom.test/busybox:1") || !strings.Contains(out, "node-1") {
		t.Fatalf("image ls: %v\n%s", err, out)
	}
	if out, err := n.strom(t, "image", "rm", "strom.test/busybox:1"); err != nil {
		t.Fatalf("image rm: %v %s", err, out)
	}
	if out, _ := n.strom(t, "image", "ls"); strings.Contains(out, "strom.test/busybox:1") {
		t.Fatalf("busybox still listed after rm:\n%s", out)
	}
	out, err = n.strom(t, "image", "import", filepath.Join(n.imgDir, "busybox.tar"))
	if err != nil || !strings.Contains(out, "node-1: imported strom.test/busybox:1") {
		t.Fatalf("image import: %v %s", err, out)
	}
	if _, err := n.strom(t, "image", "import", "/nonexistent.tar"); err == nil {
		t.Fatalf("importing a missing file succeeded")
	}
	// The others go too, so the node is left clean.
	for _, name := range []string{"echo", "missing-image"} {
		if out, err := n.strom(t, "delete", "pod", name); err != nil {
			t.Fatalf("delete %s: %v %s", name, err, out)
		}
	}
	logtest.Eventually(t, 60*time.Second, func() error {
		list, err := n.admin.ListAll(context.Background(), api.Request{Resource: "pods", Namespace: "default"})
		if err != nil {
			return err
		}
		if len(list.Items) != 0 {
			return fmt.Errorf("%d pods left", len(list.Items))
		}
		return nil
	})
}
