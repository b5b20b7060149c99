package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/test/clustertest"
)

type cluster struct {
	t   *testing.T
	d   *app.Stromd
	dir string
}

func newCluster(t *testing.T) *cluster {
	return &cluster{t: t, d: clustertest.StartStromd(t), dir: t.TempDir()}
}

// newQuietCluster runs no reconcilers, for tests that check exactly what
// the CLI writes to the log.
func newQuietCluster(t *testing.T) *cluster {
	return &cluster{t: t, d: clustertest.StartStromd(t, func(c *app.Config) { c.NoControllers = true }), dir: t.TempDir()}
}

// strom runs the CLI in-process against the cluster.
func (c *cluster) strom(stdin string, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = run(append([]string{"--config", c.d.AdminConfig}, args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func (c *cluster) mustStrom(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.strom("", args...)
	if code != 0 {
		c.t.Fatalf("strom %s: exit %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out
}

func (c *cluster) file(name, content string) string {
	p := filepath.Join(c.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cluster) lastSeq() uint64 {
	seq, err := events.LastSeq(context.Background(), c.d.JetStream())
	if err != nil {
		c.t.Fatal(err)
	}
	return seq
}

const webYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: strom.test/httpserver:IMAGE
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`

func TestApplyGetHistoryAt(t *testing.T) {
	c := newQuietCluster(t)
	f := c.file("web.yaml", strings.ReplaceAll(webYAML, "IMAGE", "1"))
	if out := c.mustStrom("apply", "-f", f); out != "deployment.apps/web created\nservice/web created\n" {
		t.Fatalf("apply output %q", out)
	}
	v1 := c.lastSeq()
	if out := c.mustStrom("apply", "-f", f); out != "deployment.apps/web unchanged\nservice/web unchanged\n" {
		t.Fatalf("re-apply output %q", out)
	}
	if c.lastSeq() != v1 {
		t.Fatalf("unchanged apply moved the log")
	}
	f2 := c.file("web2.yaml", strings.ReplaceAll(webYAML, "IMAGE", "2"))
	if out := c.mustStrom("apply", "-f", f2); !strings.Contains(out, "deployment.apps/web configured") {
		t.Fatalf("apply v2 output %q", out)
	}

	// Table, name, yaml and json outputs.
	table := c.mustStrom("get", "deployments")
	if !strings.HasPrefix(table, "NAME") || !strings.Contains(table, "web") {
		t.Fatalf("table %q", table)
	}
	if out := c.mustStrom("get", "deploy,svc", "-o", "name"); out != "deployment.apps/web\nservice/web\n" {
		t.Fatalf("-o name %q", out)
	}
	var list struct {
		Kind  string            `json:"kind"`
		Items []json.RawMessage `json:"items"`
	}
	if err := json.Unmarshal([]byte(c.mustStrom("get", "deploy", "-o", "json")), &list); err != nil || list.Kind != "List" || len(list.Items) != 1 {
		t.Fatalf("list JSON: kind %q items %d err %v", list.Kind, len(list.Items), err)
	}
	y := c.mustStrom("get", "deploy", "web", "-o", "yaml")
	if !strings.Contains(y, "image: strom.test/httpserver:2") || !strings.Contains(y, "generation: 2") {
		t.Fatalf("yaml:\n%s", y)
	}

	// History: created then updated, with actor and cause.
	var hist []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(c.mustStrom("history", "deploy/web", "-o", "json")), "\n") {
		var h map[string]any
		if err := json.Unmarshal([]byte(line), &h); err != nil {
			t.Fatal(err)
		}
		hist = append(hist, h)
	}
	if len(hist) != 2 || hist[0]["type"] != "Created" || hist[1]["type"] != "Updated" || hist[1]["actor"] != "admin" || hist[1]["cause"] == "" {
		t.Fatalf("history %v", hist)
	}

	// --at: the deployment as it was after the first apply.
	old := c.mustStrom("get", "deploy", "web", "-o", "yaml", "--at", strconv.FormatUint(v1, 10))
	if !strings.Contains(old, "image: strom.test/httpserver:1") {
		t.Fatalf("--at %d shows:\n%s", v1, old)
	}
	// Before the deployment existed it is not found, and says so.
	_, errOut, code := c.strom("", "get", "deploy", "web", "--at", "1")
	if code == 0 || !strings.Contains(errOut, `not found at #1`) {
		t.Fatalf("--at 1: exit %d %q", code, errOut)
	}
	// A relative time far in the past is before the first event: no deployment.
	_, errOut, code = c.strom("", "get", "deploy", "web", "--at", "-24h")
	if code == 0 || !strings.Contains(errOut, "not found") {
		t.Fatalf("--at -24h: exit %d %q", code, errOut)
	}

	// Delete, then it is gone now but still there in history.
	if out := c.mustStrom("delete", "deployment", "web"); out != "deployment.apps \"web\" deleted\n" {
		t.Fatalf("delete output %q", out)
	}
	if _, errOut, code := c.strom("", "get", "deploy", "web"); code != 1 || errOut != "Error from server (NotFound): deployments.apps \"web\" not found\n" {
		t.Fatalf("get deleted: %d %q", code, errOut)
	}
	if out := c.mustStrom("get", "deploy", "web", "--at", strconv.FormatUint(v1, 10), "-o", "name"); out != "deployment.apps/web\n" {
		t.Fatalf("--at after delete: %q", out)
	}

	// stream info in JSON names the projection consumer and counts kinds.
	var si map[string]any
	if err := json.Unmarshal([]byte(c.mustStrom("stream", "info", "-o", "json")), &si); err != nil {
		t.Fatal(err)
	}
	if si["name"] != events.StreamName || si["kinds"].(map[string]any)["Service"] != float64(1) || len(si["consumers"].([]any)) == 0 {
		t.Fatalf("stream info %v", si)
	}
}

func TestSelectorsAndNamespaces(t *testing.T) {
	c := newQuietCluster(t)
	_, _, code := c.strom(`apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a, namespace: team, labels: {tier: front}}
data: {k: v}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: b, namespace: team, labels: {tier: back}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c, labels: {tier: front}}
`, "apply", "-f", "-")
	if code != 0 {
		t.Fatalf("apply stdin failed")
	}
	if out := c.mustStrom("get", "cm", "-n", "team", "-l", "tier=front", "-o", "name"); out != "configmap/a\n" {
		t.Fatalf("-l in team: %q", out)
	}
	if out := c.mustStrom("get", "configmaps", "-A", "-l", "tier", "-o", "name"); out != "configmap/c\nconfigmap/a\nconfigmap/b\n" {
		t.Fatalf("-A -l tier: %q", out)
	}
	if out := c.mustStrom("get", "cm", "-A", "--field-selector", "metadata.name=b", "-o", "name"); out != "configmap/b\n" {
		t.Fatalf("field selector: %q", out)
	}
}

// Every kind of bad input: exit 1, one line naming what is wrong, and the
// log does not move.
func TestBadInputChangesNothing(t *testing.T) {
	c := newQuietCluster(t)
	c.mustStrom("apply", "-f", c.file("web.yaml", strings.ReplaceAll(webYAML, "IMAGE", "1")))
	good := `apiVersion: v1
kind: ConfigMap
metadata: {name: fine}
data: {k: v}
`
	cases := []struct {
		name, input, want string
		args              []string
	}{
		{"malformed yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n", "malformed YAML", nil},
		{"unknown kind", "apiVersion: v1\nkind: Frobnicator\nmetadata: {name: x}\n", `no kind "Frobnicator" is registered`, nil},
		{"unknown apiVersion", "apiVersion: apps/v9\nkind: Deployment\nmetadata: {name: x}\n", `no kind "Deployment" is registered for version "apps/v9"`, nil},
		{"unknown field", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndatta: {k: v}\n", `unknown field "datta"`, nil},
		{"missing name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "metadata.name: Required value", nil},
		{"invalid name", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Not_Valid}\n", "metadata.name: Invalid value", nil},
		{"invalid label", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: {a: '-bad-'}}\n", "metadata.labels: Invalid value", nil},
		{"missing required field", strings.ReplaceAll(strings.SplitN(webYAML, "---", 2)[0], "image: strom.test/httpserver:IMAGE", "command: [sh]"), "spec.template.spec.containers[0].image: Required value", nil},
		{"missing namespace", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: ghost}\n", `namespaces "ghost" not found`, nil},
		{"stale resourceVersion", "apiVersion: v1\nkind: Service\nmetadata: {name: web, resourceVersion: '1'}\nspec:\n  selector: {app: web}\n  ports: [{port: 81}]\n", "the object has been modified", nil},
		{"over 1 MiB", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {k: " + strings.Repeat("x", 1<<20) + "}\n", "1048576 bytes", nil},
		{"bad document after good ones", good + "---\n" + "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad}\n", "metadata.name: Invalid value", nil},
		{"unknown resource type", "", `the server doesn't have a resource type "frobs"`, []string{"get", "frobs"}},
		{"delete missing", "", `configmaps "nope" not found`, []string{"delete", "cm", "nope"}},
		{"bad --at", "", `--at "yesterday"`, []string{"get", "pods", "--at", "yesterday"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := c.lastSeq()
			args := tc.args
			if args == nil {
				args = []string{"apply", "-f", c.file("bad.yaml", tc.input)}
			}
			out, errOut, code := c.strom("", args...)
			if code != 1 {
				t.Fatalf("exit %d, want 1 (stdout %q)", code, out)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Fatalf("stderr %q does not say %q", errOut, tc.want)
			}
			if n := strings.Count(strings.TrimRight(errOut, "\n"), "\n"); n != 0 {
				t.Fatalf("error is %d lines, want one: %q", n+1, errOut)
			}
			if after := c.lastSeq(); after != before {
				t.Fatalf("log moved from #%d to #%d", before, after)
			}
		})
	}
	// The good ConfigMap of the mixed file was not applied either.
	if _, errOut, code := c.strom("", "get", "cm", "fine"); code != 1 || !strings.Contains(errOut, "not found") {
		t.Fatalf("half-applied file: %d %q", code, errOut)
	}
}

func TestWarningsForStoredButNotActedOn(t *testing.T) {
	c := newQuietCluster(t)
	_, errOut, code := c.strom(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend:
    service: {name: web, port: {number: 80}}
`, "apply", "-f", "-")
	if code != 0 || !strings.Contains(errOut, "Warning: ") || !strings.Contains(errOut, "Ingress") {
		t.Fatalf("exit %d, stderr %q: want a warning that Ingress is stored but not acted on", code, errOut)
	}
	if out := c.mustStrom("get", "ing", "web", "-o", "name"); out != "ingress.networking.k8s.io/web\n" {
		t.Fatalf("ingress not stored: %q", out)
	}
}

func TestNoConfigIsAClearError(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"--config", "/nonexistent/admin.conf", "get", "pods"}, strings.NewReader(""), &out, &errb)
	if code != 1 || !strings.Contains(errb.String(), "/nonexistent/admin.conf") {
		t.Fatalf("exit %d %q", code, errb.String())
	}
}
