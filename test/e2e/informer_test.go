package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/strom-project/strom/test/logtest"
)

// TestClientGoInformer runs a client-go informer program (testdata/
// informer) against the stromd binary: it sees every change exactly once,
// and goes on after stromd restarts under it (its watch resumes from its
// last resourceVersion, replayed from the log).
func TestClientGoInformer(t *testing.T) {
	dataDir := t.TempDir()
	natsPort, apiPort := freePort(t), freePort(t)
	apiFlag := []string{"--api-listen", fmt.Sprintf("127.0.0.1:%d", apiPort)}
	d := startStromd(t, dataDir, natsPort, apiFlag...)
	kubeconfig := filepath.Join(dataDir, "kubeconfig")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 10 * time.Second
	cs := kubernetes.NewForConfigOrDie(cfg)
	cms := cs.CoreV1().ConfigMaps("default")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// The API is up once a list answers.
	logtest.Eventually(t, 30*time.Second, func() error { _, err := cms.List(ctx, metav1.ListOptions{}); return err })
	create := func(name, v string) {
		t.Helper()
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"v": v}}, metav1.CreateOptions{}); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	set := func(name, v string) {
		t.Helper()
		if _, err := cms.Patch(ctx, name, types.MergePatchType, []byte(`{"data":{"v":"`+v+`"}}`), metav1.PatchOptions{}); err != nil {
			t.Fatalf("patch %s: %v", name, err)
		}
	}
	create("before", "0") // listed, not watched

	bin := filepath.Join(t.TempDir(), "informer")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/informer").CombinedOutput(); err != nil {
		t.Fatalf("building the informer: %v\n%s", err, out)
	}
	inf := exec.CommandContext(ctx, bin, "--kubeconfig", kubeconfig)
	stdout, _ := inf.StdoutPipe()
	var stderr strings.Builder
	inf.Stderr = &stderr
	if err := inf.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = inf.Process.Signal(syscall.SIGTERM); _ = inf.Wait() })
	lines := make(chan string, 1000)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var seen []string
	expect := func(want ...string) {
		t.Helper()
		for _, w := range want {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the informer exited; stderr:\n%s", stderr.String())
				}
				f := strings.Fields(l)
				got := l
				if len(f) == 4 { // drop the resourceVersion
					got = f[0] + " " + f[1] + " " + f[3]
				}
				seen = append(seen, got)
				if got != w {
					t.Fatalf("informer line %q, want %q (seen so far: %q)", l, w, seen)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no %q from the informer within 30s (seen: %q); stderr:\n%s", w, seen, stderr.String())
			}
		}
	}
	expect("ADD default/before 0", "SYNCED")
	create("a", "1")
	set("a", "2")
	create("b", "1")
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expect("ADD default/a 1", "UPDATE default/a 2", "ADD default/b 1", "DELETE default/a 2")

	// Restart stromd on the same ports and data.
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Wait()
	startStromd(t, dataDir, natsPort, apiFlag...)
	logtest.Eventually(t, 30*time.Second, func() error { _, err := cms.List(ctx, metav1.ListOptions{}); return err })
	set("b", "2")
	create("c", "1")
	expect("UPDATE default/b 2", "ADD default/c 1")
	// Nothing else: no duplicate of what the informer had already seen.
	select {
	case l := <-lines:
		t.Fatalf("an extra informer line after the restart: %q (seen: %q)", l, seen)
	case <-time.After(3 * time.Second):
	}
}
