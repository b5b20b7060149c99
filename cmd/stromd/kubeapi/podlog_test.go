package kubeapi_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/strom-project/strom/agent/nodeapi"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// The pods' streams over HTTPS, driven by client-go against a whole
// stromd, with the node agent's real node API over a fake pod manager
// (no containers: test/e2e runs them for real).

// nodePods is one node's pods for the node API: container logs are files
// in dir, exec runs a few built-in "commands", port forwarding connects
// in this process's own network namespace.
type nodePods struct {
	dir string
	mu  sync.Mutex
	// ended: the runs whose log has ended (LogRunning false).
	ended map[string]bool
}

func (f *nodePods) ContainerLogPath(ns, pod, container string, previous bool) (string, error) {
	p := filepath.Join(f.dir, pod+"."+container+".log")
	if previous {
		p = filepath.Join(f.dir, pod+"."+container+".previous.log")
	}
	if _, err := os.Stat(p); err != nil {
		if previous {
			return "", fmt.Errorf("previous terminated container %q in pod %q: not found", container, pod)
		}
		return "", fmt.Errorf("container %q of pod %s/%s: not found", container, ns, pod)
	}
	return p, nil
}

func (f *nodePods) LogRunning(_ context.Context, _, _, _, path string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.ended[path], nil
}

func (f *nodePods) endRun(path string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ended[path] = true
}

// Exec's commands: "cat-exit N" copies stdin to stdout, writes "bye" to
// stderr and exits N; "echo ARGS" prints them; "size" prints the first
// terminal size it gets; "gone" fails as a stopped container does.
func (f *nodePods) Exec(ctx context.Context, ns, pod, container string, cfg runtime.ExecConfig) (int, error) {
	switch cfg.Cmd[0] {
	case "cat-exit":
		if cfg.Stdin != nil {
			if _, err := io.Copy(cfg.Stdout, cfg.Stdin); err != nil {
				return -1, err
			}
		}
		fmt.Fprint(cfg.Stderr, "bye\n")
		var code int
		fmt.Sscan(cfg.Cmd[1], &code)
		return code, nil
	case "echo":
		fmt.Fprintln(cfg.Stdout, strings.Join(cfg.Cmd[1:], " "))
		return 0, nil
	case "size":
		if !cfg.TTY || cfg.Resize == nil {
			return -1, fmt.Errorf("size needs a terminal")
		}
		select {
		case sz := <-cfg.Resize:
			fmt.Fprintf(cfg.Stdout, "%dx%d\n", sz.Width, sz.Height)
			return 0, nil
		case <-ctx.Done():
			return -1, ctx.Err()
		}
	case "gone":
		return -1, fmt.Errorf("container %q of pod %s/%s is not running", container, ns, pod)
	}
	return 127, nil
}

// PodNetNS makes port forwarding connect to this process's loopback.
func (f *nodePods) PodNetNS(context.Context, string) (string, error) {
	return "/proc/self/ns/net", nil
}

type streamEnv struct {
	d    *app.Stromd
	cs   *kubernetes.Clientset
	cfg  *restclient.Config
	pods *nodePods
}

// startStreams runs stromd with its HTTPS API and a node agent's node API for
// node n1; pods(…) are created on n1.
func startStreams(t *testing.T) *streamEnv {
	t.Helper()
	d := clustertest.StartStromd(t, func(c *app.Config) { c.APIListen = "127.0.0.1:0" })
	acfg, err := d.NodeConfig("n1")
	if err != nil {
		t.Fatal(err)
	}
	ac, err := api.Dial(acfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ac.Close)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fp := &nodePods{dir: t.TempDir(), ended: map[string]bool{}}
	if err := nodeapi.Serve(ctx, ac.Conn(), "n1", fp, zaptest.NewLogger(t)); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", d.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &streamEnv{d: d, cs: cs, cfg: cfg, pods: fp}
}

// pod creates a pod with those containers on node (""): not scheduled).
func (e *streamEnv) pod(t *testing.T, name, node string, containers ...string) *corev1.Pod {
	t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.PodSpec{NodeName: node}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c, Image: "busybox"})
	}
	out, err := e.cs.CoreV1().Pods("default").Create(context.Background(), p, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating pod %s: %v", name, err)
	}
	return out
}

func (e *streamEnv) writeLog(t *testing.T, pod, container, text string) string {
	t.Helper()
	p := filepath.Join(e.pods.dir, pod+"."+container+".log")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	return p
}

func (e *streamEnv) logs(t *testing.T, pod string, o *corev1.PodLogOptions) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := e.cs.CoreV1().Pods("default").GetLogs(pod, o).Stream(ctx)
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	return string(b), err
}

func i64p(n int64) *int64 { return &n }

func TestPodLogOptions(t *testing.T) {
	e := startStreams(t)
	e.pod(t, "web", "n1", "app")
	e.writeLog(t, "web", "app", "one\ntwo\nthree\n")
	for _, tc := range []struct {
		name string
		opts corev1.PodLogOptions
		want string
	}{
		{"all", corev1.PodLogOptions{}, "one\ntwo\nthree\n"},
		{"tailLines", corev1.PodLogOptions{TailLines: i64p(2)}, "two\nthree\n"},
		{"tailLines=0", corev1.PodLogOptions{TailLines: i64p(0)}, ""},
		{"limitBytes", corev1.PodLogOptions{LimitBytes: i64p(6)}, "one\ntw"},
		{"named container", corev1.PodLogOptions{Container: "app"}, "one\ntwo\nthree\n"},
	} {
		got, err := e.logs(t, "web", &tc.opts)
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	// No times file (a log from before times were kept): each line is
	// stamped with an upper bound, the log's modification time.
	got, err := e.logs(t, "web", &corev1.PodLogOptions{Timestamps: true, TailLines: i64p(1)})
	if err != nil {
		t.Fatal(err)
	}
	ts, line, ok := strings.Cut(got, " ")
	if _, perr := time.Parse(time.RFC3339Nano, ts); perr != nil || !ok || line != "three\n" {
		t.Errorf("timestamps: %q (%v)", got, perr)
	}
}

func TestPodLogFollowEndsWithTheRun(t *testing.T) {
	e := startStreams(t)
	e.pod(t, "web", "n1", "app")
	path := e.writeLog(t, "web", "app", "first\n")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc, err := e.cs.CoreV1().Pods("default").GetLogs("web", &corev1.PodLogOptions{Follow: true}).Stream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	r := bufio.NewReader(rc)
	if l, err := r.ReadString('\n'); err != nil || l != "first\n" {
		t.Fatalf("first line: %q %v", l, err)
	}
	start := time.Now()
	e.writeLog(t, "web", "app", "second\n")
	if l, err := r.ReadString('\n'); err != nil || l != "second\n" {
		t.Fatalf("followed line: %q %v", l, err)
	}
	t.Logf("a followed line arrived %v after it was written", time.Since(start))
	e.pods.endRun(path)
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Fatalf("after the run ended: %q %v", rest, err)
	}
}

func TestPodLogErrors(t *testing.T) {
	e := startStreams(t)
	e.pod(t, "two", "n1", "a", "b")
	e.pod(t, "pending", "", "app")
	e.pod(t, "orphan", "ghost", "app")
	e.writeLog(t, "two", "a", "from a\n")

	_, err := e.logs(t, "missing", &corev1.PodLogOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `pods "missing" not found` {
		t.Errorf("missing pod: %v", err)
	}
	_, err = e.logs(t, "two", &corev1.PodLogOptions{})
	if !apierrors.IsBadRequest(err) || err.Error() != "a container name must be specified for pod two, choose one of: [a b]" {
		t.Errorf("no container of two: %v", err)
	}
	_, err = e.logs(t, "two", &corev1.PodLogOptions{Container: "c"})
	if !apierrors.IsBadRequest(err) || err.Error() != "container c is not valid for pod two" {
		t.Errorf("unknown container: %v", err)
	}
	_, err = e.logs(t, "pending", &corev1.PodLogOptions{})
	if !apierrors.IsBadRequest(err) || err.Error() != "pod pending does not have a host assigned" {
		t.Errorf("pending pod: %v", err)
	}
	_, err = e.logs(t, "two", &corev1.PodLogOptions{Container: "a", TailLines: i64p(-1)})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "tailLines: Invalid value: -1: must be greater than or equal to 0") {
		t.Errorf("negative tailLines: %v", err)
	}
	_, err = e.logs(t, "two", &corev1.PodLogOptions{Container: "a", Previous: true})
	if !apierrors.IsBadRequest(err) || err.Error() != `previous terminated container "a" in pod "two": not found` {
		t.Errorf("no previous run: %v", err)
	}
	_, err = e.logs(t, "orphan", &corev1.PodLogOptions{})
	if !apierrors.IsServiceUnavailable(err) || err.Error() != "node ghost: the node agent is not answering" {
		t.Errorf("node without an agent: %v", err)
	}

	// A value that does not parse is a 400 naming the parameter.
	body, err := e.cs.CoreV1().RESTClient().Get().Namespace("default").Resource("pods").Name("two").
		SubResource("log").Param("container", "a").Param("tailLines", "ten").DoRaw(context.Background())
	if !apierrors.IsBadRequest(err) || !strings.Contains(string(body), `"message":"tailLines: \"ten\" is not an integer"`) {
		t.Errorf("tailLines=ten: %v %s", err, body)
	}
	body, err = e.cs.CoreV1().RESTClient().Get().Namespace("default").Resource("pods").Name("two").
		SubResource("log").Param("container", "a").Param("sinceTime", "yesterday").DoRaw(context.Background())
	if !apierrors.IsBadRequest(err) || !strings.Contains(string(body), `"message":"sinceTime: \"yesterday\" is not an RFC 3339 time"`) {
		t.Errorf("sinceTime=yesterday: %v %s", err, body)
	}
}

func TestPodLogDefaultContainerAnnotation(t *testing.T) {
	e := startStreams(t)
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "two", Annotations: map[string]string{"kubectl.kubernetes.io/default-container": "b"}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "a", Image: "busybox"}, {Name: "b", Image: "busybox"}}},
	}
	if _, err := e.cs.CoreV1().Pods("default").Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	e.writeLog(t, "two", "b", "from b\n")
	if got, err := e.logs(t, "two", &corev1.PodLogOptions{}); err != nil || got != "from b\n" {
		t.Errorf("default container: %q %v", got, err)
	}
}
