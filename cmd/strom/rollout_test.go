package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/logtest"
)

// hollowNodes runs hollow node agents against the cluster until the test
// ends.
func (c *cluster) hollowNodes(names ...string) {
	c.t.Helper()
	for _, n := range names {
		cfg, err := c.d.NodeConfig(n)
		if err != nil {
			c.t.Fatal(err)
		}
		ac, err := api.Dial(cfg)
		if err != nil {
			c.t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- agent.Run(ctx, agent.Config{NodeName: n, Client: ac, Conn: ac.Conn(), Resync: time.Second, Heartbeat: 200 * time.Millisecond,
				Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}})
		}()
		c.t.Cleanup(func() { cancel(); <-done; ac.Close() })
	}
	// The agents register asynchronously: wait until every node is seen.
	for _, n := range names {
		c.visible("node", n)
	}
}

const rolloutYAML = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "strom.test/web:IMAGE"}]
`

func (c *cluster) images(selector string) map[string]int {
	c.t.Helper()
	var list struct {
		Items []corev1.Pod `json:"items"`
	}
	if err := json.Unmarshal([]byte(c.mustStrom("get", "pods", "-l", selector, "-o", "json")), &list); err != nil {
		c.t.Fatal(err)
	}
	out := map[string]int{}
	for _, p := range list.Items {
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
			out[p.Spec.Containers[0].Image]++
		}
	}
	return out
}

// visible waits until the API's view has an object (each CLI run is a new
// client, so it does not carry the previous run's sequence).
func (c *cluster) visible(args ...string) {
	c.t.Helper()
	logtest.Eventually(c.t, 10*time.Second, func() error {
		_, errOut, code := c.strom("", append([]string{"get"}, args...)...)
		if code != 0 {
			return fmt.Errorf("%s", errOut)
		}
		return nil
	})
}

func TestRolloutAndScale(t *testing.T) {
	c := newCluster(t)
	c.hollowNodes("h1", "h2")
	c.mustStrom("apply", "-f", c.file("v1.yaml", strings.ReplaceAll(rolloutYAML, "IMAGE", "1")))
	c.visible("deploy", "web")
	if out := c.mustStrom("rollout", "status", "deployment/web", "--timeout", "60s"); !strings.Contains(out, `deployment "web" successfully rolled out`) {
		t.Fatalf("rollout status: %q", out)
	}
	c.mustStrom("apply", "-f", c.file("v2.yaml", strings.ReplaceAll(rolloutYAML, "IMAGE", "2")))
	if out := c.mustStrom("rollout", "status", "web", "--timeout", "60s"); !strings.HasSuffix(out, "deployment \"web\" successfully rolled out\n") {
		t.Fatalf("rollout status v2: %q", out)
	}
	hist := c.mustStrom("rollout", "history", "web")
	if !strings.Contains(hist, "REVISION") || !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		t.Fatalf("history:\n%s", hist)
	}
	if out := c.mustStrom("rollout", "undo", "web"); out != "deployment.apps/web rolled back\n" {
		t.Fatalf("undo: %q", out)
	}
	c.mustStrom("rollout", "status", "web", "--timeout", "60s")
	logtest.Eventually(t, 30*time.Second, func() error {
		if im := c.images("app=web"); im["strom.test/web:1"] != 3 || len(im) != 1 {
			return fmt.Errorf("images after undo: %v", im)
		}
		return nil
	})
	if hist := c.mustStrom("rollout", "history", "web"); !strings.Contains(hist, "\n3 ") {
		t.Fatalf("undo did not make revision 3:\n%s", hist)
	}
	if out := c.mustStrom("scale", "deployment", "web", "--replicas", "1"); out != "deployment.apps/web scaled\n" {
		t.Fatalf("scale: %q", out)
	}
	logtest.Eventually(t, 30*time.Second, func() error {
		if im := c.images("app=web"); im["strom.test/web:1"] != 1 || len(im) != 1 {
			return fmt.Errorf("images after scale: %v", im)
		}
		return nil
	})
	if out := c.mustStrom("rollout", "pause", "web"); out != "deployment.apps/web paused\n" {
		t.Fatalf("pause: %q", out)
	}
	if _, errOut, code := c.strom("", "rollout", "undo", "web"); code == 0 || !strings.Contains(errOut, "paused") {
		t.Fatalf("undo of a paused deployment: exit %d %q", code, errOut)
	}
	c.mustStrom("rollout", "resume", "web")
	before := c.mustStrom("get", "pods", "-l", "app=web", "-o", "name")
	c.mustStrom("rollout", "restart", "web")
	c.mustStrom("rollout", "status", "web", "--timeout", "60s")
	logtest.Eventually(t, 30*time.Second, func() error {
		after := c.mustStrom("get", "pods", "-l", "app=web", "-o", "name")
		if after == before || strings.Count(after, "\n") != 1 {
			return fmt.Errorf("pods before restart %q, after %q", before, after)
		}
		return nil
	})
}

func TestCordonDrainWithPDB(t *testing.T) {
	c := newCluster(t)
	c.hollowNodes("h1", "h2")
	c.mustStrom("apply", "-f", c.file("v1.yaml", strings.ReplaceAll(rolloutYAML, "IMAGE", "1")))
	c.visible("deploy", "web")
	c.mustStrom("rollout", "status", "web", "--timeout", "60s")
	c.mustStrom("apply", "-f", c.file("pdb.yaml", `{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"web"},"spec":{"maxUnavailable":1,"selector":{"matchLabels":{"app":"web"}}}}`))
	// The DaemonSet controller puts a pod on each node: drain must
	// leave h1's alone.
	c.mustStrom("apply", "-f", c.file("ds.yaml", `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"a","image":"x"}]}}}}`))
	var list struct {
		Items []corev1.Pod `json:"items"`
	}
	dsPod := ""
	logtest.Eventually(t, 30*time.Second, func() error {
		if err := json.Unmarshal([]byte(c.mustStrom("get", "pods", "-l", "app=agent", "-o", "json")), &list); err != nil {
			return err
		}
		for _, p := range list.Items {
			if p.Spec.NodeName == "h1" {
				dsPod = p.Name
				return nil
			}
		}
		return fmt.Errorf("no DaemonSet pod bound to h1 yet (%d pods)", len(list.Items))
	})
	if out := c.mustStrom("cordon", "h1"); out != "node/h1 cordoned\n" {
		t.Fatalf("cordon: %q", out)
	}
	out := c.mustStrom("drain", "h1", "--timeout", "60s")
	if !strings.HasSuffix(out, "node/h1 drained\n") || strings.Contains(out, "agent-") || strings.Count(out, "evicting pod") == 0 {
		t.Fatalf("drain: %q", out)
	}
	logtest.Eventually(t, 30*time.Second, func() error {
		if err := json.Unmarshal([]byte(c.mustStrom("get", "pods", "-o", "json")), &list); err != nil {
			return err
		}
		running, kept := 0, false
		for _, p := range list.Items {
			if p.Labels["app"] == "agent" {
				kept = kept || p.Name == dsPod
				if p.DeletionTimestamp != nil {
					t.Fatalf("drain evicted the DaemonSet pod")
				}
				continue
			}
			if p.Spec.NodeName == "h1" {
				return fmt.Errorf("pod %s still on the drained node", p.Name)
			}
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning {
				running++
			}
		}
		if !kept {
			t.Fatalf("DaemonSet pod %s on h1 is gone", dsPod)
		}
		if running != 3 {
			return fmt.Errorf("%d running pods, want 3 on h2", running)
		}
		return nil
	})
	if out := c.mustStrom("uncordon", "h1"); out != "node/h1 uncordoned\n" {
		t.Fatalf("uncordon: %q", out)
	}
}
