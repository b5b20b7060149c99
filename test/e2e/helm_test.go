package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strom-project/strom/test/kubetools"
)

// TestHelm drives a real helm v4 (helm.sh/helm/v4, built by make tools)
// through a release's life against Strom: install with a post-install
// hook, upgrade with new values, history, rollback, list, status,
// uninstall; the release records are Secrets, as on Kubernetes.
func TestHelm(t *testing.T) {
	n := startRealNodeWith(t, nodeOptions{kubeAPI: true})
	k := newKubectl(t, n)
	helmBin := kubetools.Helm(t)
	home := t.TempDir()
	helm := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, helmBin, append([]string{"--kubeconfig", n.d.Kubeconfig}, args...)...)
		c.Env = append(os.Environ(), "HELM_CACHE_HOME="+filepath.Join(home, "cache"), "HELM_CONFIG_HOME="+filepath.Join(home, "config"),
			"HELM_DATA_HOME="+filepath.Join(home, "data"))
		out, err := c.CombinedOutput()
		return string(out), err
	}
	must := func(args []string, want ...string) string {
		t.Helper()
		out, err := helm(args...)
		if err != nil {
			t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Fatalf("helm %s: output lacks %q:\n%s", strings.Join(args, " "), w, out)
			}
		}
		return out
	}
	chart, err := filepath.Abs("testdata/chart")
	if err != nil {
		t.Fatal(err)
	}

	must([]string{"install", "demo", chart, "--wait", "--timeout", "2m"}, "STATUS: deployed", "REVISION: 1")
	k.must([]string{"get", "deploy,svc,cm,secret,sa", "-l", "!x"}, "deployment.apps/demo-web", "service/demo-web", "configmap/demo-config", "secret/demo-secret", "serviceaccount/demo-sa")
	k.must([]string{"get", "secret", "-l", "owner=helm,name=demo", "-o", "name"}, "secret/sh.helm.release.v1.demo.v1")
	// The hook ran and, having succeeded, was deleted.
	if out, err := k.run("get", "pod", "demo-post-install"); err == nil {
		t.Fatalf("the succeeded hook pod is still there:\n%s", out)
	}

	must([]string{"upgrade", "demo", chart, "--set", "greeting=bonjour,replicas=2", "--wait", "--timeout", "2m"}, "STATUS: deployed", "REVISION: 2")
	k.must([]string{"get", "cm", "demo-config", "-o", "jsonpath={.data.greeting}"}, "bonjour")
	k.must([]string{"get", "deploy", "demo-web", "-o", "jsonpath={.spec.replicas}"}, "2")
	hist := must([]string{"history", "demo"}, "REVISION")
	if !hasRow(hist, "1") || !hasRow(hist, "2") {
		t.Fatalf("helm history:\n%s", hist)
	}

	must([]string{"rollback", "demo", "1", "--wait", "--timeout", "2m"}, "Rollback was a success")
	k.must([]string{"get", "cm", "demo-config", "-o", "jsonpath={.data.greeting}"}, "hello")
	k.must([]string{"get", "deploy", "demo-web", "-o", "jsonpath={.spec.replicas}"}, "1")

	var list []struct {
		Name     string `json:"name"`
		Revision string `json:"revision"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal([]byte(must([]string{"list", "-o", "json"})), &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Name != "demo" || list[0].Revision != "3" || list[0].Status != "deployed" {
		t.Fatalf("helm list: %+v", list)
	}
	must([]string{"status", "demo"}, "STATUS: deployed", "REVISION: 3")

	must([]string{"uninstall", "demo", "--wait", "--timeout", "2m"}, `release "demo" uninstalled`)
	if out, _ := k.run("get", "deploy,svc,cm,secret,sa", "-o", "name"); strings.Contains(out, "demo") {
		t.Fatalf("left after uninstall:\n%s", out)
	}
	if out := must([]string{"list", "-q"}); strings.TrimSpace(out) != "" {
		t.Fatalf("helm list after uninstall: %q", out)
	}
}
