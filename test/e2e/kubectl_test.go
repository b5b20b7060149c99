package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strom-project/strom/test/kubetools"
	"github.com/strom-project/strom/test/logtest"
)

// kubectl runs the real kubectl (k8s.io/kubectl v0.37.2, built by make
// tools) against a node's Kubernetes HTTPS API.
type kubectl struct {
	t          *testing.T
	bin        string
	kubeconfig string
}

func newKubectl(t *testing.T, n *realNode) *kubectl {
	if n.d.Kubeconfig == "" {
		t.Fatal("the node's stromd serves no Kubernetes API (nodeOptions.kubeAPI)")
	}
	return &kubectl{t: t, bin: kubetools.Kubectl(t), kubeconfig: n.d.Kubeconfig}
}

func (k *kubectl) cmd(ctx context.Context, args ...string) *exec.Cmd {
	c := exec.CommandContext(ctx, k.bin, append([]string{"--kubeconfig", k.kubeconfig}, args...)...)
	c.Env = append(os.Environ(), "KUBECACHEDIR="+filepath.Join(k.t.TempDir(), "cache"))
	return c
}

// run returns kubectl's combined output and error.
func (k *kubectl) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := k.cmd(ctx, args...).CombinedOutput()
	return string(out), err
}

// must runs kubectl and fails the test if it fails or its output lacks
// any of want.
func (k *kubectl) must(args []string, want ...string) string {
	k.t.Helper()
	out, err := k.run(args...)
	if err != nil {
		k.t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			k.t.Fatalf("kubectl %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

func (k *kubectl) apply(manifest string, extra ...string) string {
	k.t.Helper()
	return k.must(append([]string{"apply", "-f", writeTemp(k.t, manifest)}, extra...))
}

const kubectlWeb = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: strom.test/busybox:1
        command: [sleep, "3600"]
        ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast, level: "3"}
`

// kubectlRC is the docs' ReplicationController, with a test image.
const kubectlRC = `apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 2
  template:
    metadata:
      name: nginx
      labels: {app: nginx}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: nginx
        image: strom.test/busybox:1
        command: [sleep, "3600"]
`

// TestKubectl drives a real kubectl against Strom's Kubernetes API on a
// real node: the verbs users type, checked against what Kubernetes prints.
func TestKubectl(t *testing.T) {
	n := startRealNodeWith(t, nodeOptions{kubeAPI: true})
	k := newKubectl(t, n)

	k.must([]string{"version"}, "Client Version: v1.37.2", "Server Version: v1.37.2+strom")
	k.must([]string{"cluster-info"}, "Kubernetes control plane is running at https://127.0.0.1:")
	if out := k.must([]string{"api-versions"}, "apps/v1", "batch/v1", "v1"); strings.Contains(out, "v1beta") {
		t.Fatalf("api-versions lists versions Strom does not serve:\n%s", out)
	}
	res := k.must([]string{"api-resources"}, "deployments", "Deployment")
	if !hasRow(res, "deployments", "deploy", "apps/v1", "true", "Deployment") || !hasRow(res, "nodes", "no", "v1", "false", "Node") {
		t.Fatalf("api-resources rows:\n%s", res)
	}
	k.must([]string{"explain", "deployment.spec.replicas"}, "FIELD: replicas <integer>")

	// Client-side apply, then the cluster works on it.
	k.must([]string{"apply", "-f", writeTemp(t, kubectlWeb)}, "deployment.apps/web created", "service/web created", "configmap/settings created")
	k.must([]string{"wait", "--for=condition=Available", "deployment/web", "--timeout=120s"}, "condition met")
	k.must([]string{"rollout", "status", "deployment/web", "--timeout=60s"}, `deployment "web" successfully rolled out`)
	k.must([]string{"apply", "-f", writeTemp(t, kubectlWeb)}, "deployment.apps/web unchanged")

	// get in every output format.
	wide := k.must([]string{"get", "pods", "-o", "wide", "-l", "app=web"}, "NAME", "READY", "STATUS", "NODE", "Running", "node-1")
	if strings.Count(wide, "web-") != 2 {
		t.Fatalf("get pods -o wide: want 2 pods:\n%s", wide)
	}
	k.must([]string{"get", "deploy", "web", "-o", "yaml"}, "kind: Deployment", "replicas: 2")
	k.must([]string{"get", "deploy", "web", "-o", "yaml", "--show-managed-fields"}, "managedFields:", "manager: kubectl-client-side-apply")
	k.must([]string{"get", "svc", "web", "-o", "json"}, `"kind": "Service"`, `"clusterIP": "10.43.`)
	k.must([]string{"get", "deploy,svc", "-o", "name"}, "deployment.apps/web", "service/web")
	if out := k.must([]string{"get", "cm", "settings", "-o", "jsonpath={.data.mode}"}); out != "fast" {
		t.Fatalf("jsonpath: %q", out)
	}
	k.must([]string{"get", "all"}, "pod/web-", "service/web", "deployment.apps/web", "replicaset.apps/web-")
	k.must([]string{"describe", "deployment", "web"}, "Name:", "web", "Replicas:", "2 desired")

	// get -w sees another client's write.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	watch := k.cmd(ctx, "get", "configmaps", "-w", "--output-watch-events")
	stdout, _ := watch.StdoutPipe()
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, "settings")
	k.must([]string{"create", "configmap", "watched", "--from-literal=a=b"}, "configmap/watched created")
	waitLine(t, lines, "ADDED", "watched")
	cancel()
	_ = watch.Wait()

	// Patches of each type, label, annotate, scale, edit.
	k.must([]string{"patch", "cm", "settings", "-p", `{"data":{"strategic":"1"}}`}, "configmap/settings patched")
	k.must([]string{"patch", "cm", "settings", "--type=merge", "-p", `{"data":{"merge":"1"}}`}, "patched")
	k.must([]string{"patch", "cm", "settings", "--type=json", "-p", `[{"op":"add","path":"/data/json","value":"1"}]`}, "patched")
	k.must([]string{"label", "cm", "settings", "tier=backend"}, "configmap/settings labeled")
	k.must([]string{"annotate", "cm", "settings", "owner=team-a"}, "configmap/settings annotated")
	k.must([]string{"get", "cm", "settings", "-o", "jsonpath={.data.strategic}{.data.merge}{.data.json} {.metadata.labels.tier} {.metadata.annotations.owner}"}, "111 backend team-a")
	editor := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(editor, []byte("#!/bin/sh\nsed -i 's/mode: fast/mode: slow/' \"$1\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	{
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		c := k.cmd(ctx, "edit", "cm", "settings")
		c.Env = append(c.Env, "KUBE_EDITOR="+editor)
		out, err := c.CombinedOutput()
		cancel()
		if err != nil || !strings.Contains(string(out), "configmap/settings edited") {
			t.Fatalf("kubectl edit: %v\n%s", err, out)
		}
	}
	k.must([]string{"get", "cm", "settings", "-o", "jsonpath={.data.mode}"}, "slow")
	k.must([]string{"scale", "deployment/web", "--replicas=3"}, "deployment.apps/web scaled")
	k.must([]string{"rollout", "status", "deployment/web", "--timeout=60s"}, "successfully rolled out")
	logtest.Eventually(t, 30*time.Second, func() error {
		out, _ := k.run("get", "pods", "-l", "app=web", "--field-selector=status.phase=Running", "-o", "name")
		if c := strings.Count(out, "pod/"); c != 3 {
			return fmt.Errorf("%d running pods:\n%s", c, out)
		}
		return nil
	})

	// A ReplicationController as the Kubernetes docs write it (its
	// selector defaults from the template): run, scaled, deleted.
	k.apply(kubectlRC)
	logtest.Eventually(t, 60*time.Second, func() error {
		out, _ := k.run("get", "rc", "nginx")
		if !hasRow(out, "nginx", "2", "2", "2") {
			return fmt.Errorf("get rc:\n%s", out)
		}
		return nil
	})
	k.must([]string{"scale", "rc", "nginx", "--replicas=1"}, "replicationcontroller/nginx scaled")
	logtest.Eventually(t, 30*time.Second, func() error {
		out, _ := k.run("get", "pods", "-l", "app=nginx", "-o", "name")
		if c := strings.Count(out, "pod/nginx-"); c != 1 {
			return fmt.Errorf("%d rc pods after scaling to 1:\n%s", c, out)
		}
		return nil
	})
	k.must([]string{"delete", "rc", "nginx"}, `replicationcontroller "nginx" deleted`)

	// Rollouts: set image, history, undo, restart.
	k.must([]string{"set", "image", "deployment/web", "c=strom.test/httpserver:1"}, "deployment.apps/web image updated")
	k.must([]string{"rollout", "status", "deployment/web", "--timeout=90s"}, "successfully rolled out")
	hist := k.must([]string{"rollout", "history", "deployment/web"}, "REVISION")
	if !hasRow(hist, "1") || !hasRow(hist, "2") {
		t.Fatalf("rollout history:\n%s", hist)
	}
	k.must([]string{"rollout", "undo", "deployment/web"}, "deployment.apps/web rolled back")
	k.must([]string{"rollout", "status", "deployment/web", "--timeout=90s"}, "successfully rolled out")
	k.must([]string{"get", "deploy", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"}, "strom.test/busybox:1")
	k.must([]string{"rollout", "restart", "deployment/web"}, "deployment.apps/web restarted")
	k.must([]string{"get", "deploy", "web", "-o", "jsonpath={.spec.template.metadata.annotations}"}, "kubectl.kubernetes.io/restartedAt")

	// Server-side apply: take over, then a second apply without a field
	// removes it.
	ssa := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssa}\ndata: {keep: \"1\", drop: \"2\"}\n"
	k.apply(ssa, "--server-side")
	k.apply(strings.Replace(ssa, `, drop: "2"`, "", 1), "--server-side")
	if out := k.must([]string{"get", "cm", "ssa", "-o", "jsonpath={.data}"}); strings.Contains(out, "drop") || !strings.Contains(out, "keep") {
		t.Fatalf("after the second server-side apply: %s", out)
	}
	if out, err := k.run("apply", "--server-side", "--field-manager=other", "-f", writeTemp(t, strings.Replace(ssa, `keep: "1"`, `keep: "9"`, 1))); err == nil || !strings.Contains(out, "conflict") {
		t.Fatalf("a conflicting server-side apply: %v\n%s", err, out)
	}

	// diff: exit code 1 and the change; nothing written (dry run).
	changed := strings.Replace(kubectlWeb, "mode: fast", "mode: diffed", 1)
	if out, err := k.run("diff", "-f", writeTemp(t, changed)); err == nil || !strings.Contains(out, "+  mode: diffed") {
		t.Fatalf("kubectl diff: %v\n%s", err, out)
	}
	k.must([]string{"get", "cm", "settings", "-o", "jsonpath={.data.mode}"}, "slow")

	// Errors read as Kubernetes' do.
	if out, err := k.run("get", "deploy", "nope"); err == nil || !strings.Contains(out, `Error from server (NotFound): deployments.apps "nope" not found`) {
		t.Fatalf("get of a missing object: %v\n%s", err, out)
	}

	kubectlPodStreams(t, k)

	// delete --cascade=foreground removes the pods too.
	k.must([]string{"delete", "deployment", "web", "--cascade=foreground", "--wait=true", "--timeout=90s"}, `deployment.apps "web" deleted`)
	logtest.Eventually(t, 60*time.Second, func() error {
		if out, _ := k.run("get", "pods,rs", "-l", "app=web", "-o", "name"); strings.TrimSpace(out) != "" {
			return fmt.Errorf("left after the cascade:\n%s", out)
		}
		return nil
	})
}

// hasRow reports whether a table has a row whose cells start with cells.
func hasRow(table string, cells ...string) bool {
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) >= len(cells) && strings.Join(f[:len(cells)], " ") == strings.Join(cells, " ") {
			return true
		}
	}
	return false
}

// waitLine waits for a line holding every one of want.
func waitLine(t *testing.T, lines <-chan string, want ...string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the watch ended before a line with %v", want)
			}
			all := true
			for _, w := range want {
				all = all && strings.Contains(l, w)
			}
			if all {
				return
			}
		case <-timeout:
			t.Fatalf("no line with %v within 20s", want)
		}
	}
}

const kubectlPods = `apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: strom.test/busybox:1
    command: [sh, -c, 'echo one; echo two; sleep 3600']
---
apiVersion: v1
kind: Pod
metadata: {name: http}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: strom.test/httpserver:1
    ports: [{containerPort: 8080}]
`

// kubectlPodStreams: logs (-f, --tail), exec -i with the command's exit
// code, cp (tar through exec) both ways, port-forward then a request.
func kubectlPodStreams(t *testing.T, k *kubectl) {
	k.apply(kubectlPods)
	k.must([]string{"wait", "--for=condition=Ready", "pod/talker", "pod/http", "--timeout=90s"}, "condition met")
	logtest.Eventually(t, 20*time.Second, func() error {
		if out, err := k.run("logs", "talker"); err != nil || out != "one\ntwo\n" {
			return fmt.Errorf("kubectl logs: %v %q", err, out)
		}
		return nil
	})
	if out := k.must([]string{"logs", "talker", "--tail=1"}); out != "two\n" {
		t.Fatalf("kubectl logs --tail=1: %q", out)
	}
	{
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		f := k.cmd(ctx, "logs", "-f", "talker")
		out, _ := f.StdoutPipe()
		if err := f.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		var got []string
		for len(got) < 2 && sc.Scan() {
			got = append(got, sc.Text())
		}
		cancel()
		_ = f.Wait()
		if strings.Join(got, ",") != "one,two" {
			t.Fatalf("kubectl logs -f: %q", got)
		}
	}

	// exec -i: stdin reaches the command, its exit code is kubectl's.
	{
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		c := k.cmd(ctx, "exec", "-i", "talker", "--", "sh", "-c", "cat; exit 3")
		c.Stdin = strings.NewReader("through stdin\n")
		out, err := c.CombinedOutput()
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 || !strings.Contains(string(out), "through stdin") {
			t.Fatalf("kubectl exec -i: %v %q", err, out)
		}
	}

	// cp needs tar in the container: busybox has it as an applet.
	k.must([]string{"exec", "talker", "--", "ln", "-sf", "/bin/busybox", "/bin/tar"})
	dir := t.TempDir()
	src, back := filepath.Join(dir, "src"), filepath.Join(dir, "back")
	payload := strings.Repeat("strom cp payload\n", 10000)
	if err := os.WriteFile(src, []byte(payload), 0o644); err != nil {
		t.Fatal(err)
	}
	k.must([]string{"cp", src, "talker:/tmp/copied"})
	k.must([]string{"cp", "talker:/tmp/copied", back})
	if got, err := os.ReadFile(back); err != nil || string(got) != payload {
		t.Fatalf("kubectl cp round trip: %v, %d bytes of %d", err, len(got), len(payload))
	}

	// port-forward to the pod's port, then a request through it.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	pf := k.cmd(ctx, "port-forward", "pod/http", ":8080")
	out, _ := pf.StdoutPipe()
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = pf.Wait() }()
	sc := bufio.NewScanner(out)
	local := ""
	for local == "" && sc.Scan() {
		// Forwarding from 127.0.0.1:40123 -> 8080
		if f := strings.Fields(sc.Text()); len(f) >= 3 && strings.HasPrefix(f[2], "127.0.0.1:") {
			local = f[2]
		}
	}
	if local == "" {
		t.Fatal("kubectl port-forward printed no local address")
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + local + "/")
	if err != nil {
		t.Fatalf("request through the forwarded port: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "http") {
		t.Fatalf("through port-forward: %d %q", resp.StatusCode, body)
	}
}
