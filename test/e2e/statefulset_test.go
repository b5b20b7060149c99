package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/test/logtest"
)

const statefulSetYAML = `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: REPLICAS
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: IMAGE}]
`

func stsYAML(replicas int, image string) string {
	return strings.NewReplacer("REPLICAS", fmt.Sprint(replicas), "IMAGE", image).Replace(statefulSetYAML)
}

func (c *rcluster) statefulSet(name string) *appsv1.StatefulSet {
	c.t.Helper()
	var ss appsv1.StatefulSet
	if err := c.get("statefulsets", "default", name, &ss); err != nil {
		c.t.Fatal(err)
	}
	return &ss
}

// webPods are the set's pods by name.
func (c *rcluster) webPods() map[string]corev1.Pod {
	out := map[string]corev1.Pod{}
	for _, p := range c.pods("default", "app=web") {
		out[p.Name] = p
	}
	return out
}

func healthyPod(p corev1.Pod, ok bool) bool {
	return ok && p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && ready(&p)
}

// watchSet polls the set's pods until cond holds, calling check on every
// snapshot (an invariant of the ordering).
func (c *rcluster) watchSet(timeout time.Duration, check func(map[string]corev1.Pod), cond func(map[string]corev1.Pod) error) {
	c.t.Helper()
	logtest.Eventually(c.t, timeout, func() error {
		ps := c.webPods()
		check(ps)
		return cond(ps)
	})
}

// A StatefulSet on hollow nodes: web-0, web-1, web-2 come up one at a
// time in order, each with its stable hostname; a deleted web-1 comes
// back under its name; scaling to 1 removes web-2 before web-1; an image
// change rolls from the highest ordinal and `strom rollout status sts/web`
// reports it done.
func TestStatefulSetOnHollowNodes(t *testing.T) {
	c := startCluster(t, "n1", "n2")
	c.apply(stsYAML(3, "web:1"))
	allRunning := func(n int) func(map[string]corev1.Pod) error {
		return func(ps map[string]corev1.Pod) error {
			if len(ps) != n {
				return fmt.Errorf("%d pods, want %d", len(ps), n)
			}
			for i := 0; i < n; i++ {
				name := fmt.Sprintf("web-%d", i)
				if p, ok := ps[name]; !healthyPod(p, ok) {
					return fmt.Errorf("%s not running and ready", name)
				}
			}
			return nil
		}
	}
	// OrderedReady: a pod exists only once every lower one is healthy.
	ordered := func(ps map[string]corev1.Pod) {
		for i := 1; i < 3; i++ {
			if _, ok := ps[fmt.Sprintf("web-%d", i)]; !ok {
				continue
			}
			for j := 0; j < i; j++ {
				if p, ok := ps[fmt.Sprintf("web-%d", j)]; !healthyPod(p, ok) {
					t.Fatalf("web-%d exists while web-%d is not healthy", i, j)
				}
			}
		}
	}
	c.watchSet(40*time.Second, ordered, allRunning(3))
	for name, p := range c.webPods() {
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web" || p.Labels["statefulset.kubernetes.io/pod-name"] != name || p.Labels["controller-revision-hash"] == "" {
			t.Fatalf("pod %s: hostname %q subdomain %q labels %v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
	}
	c.wantEvent("SuccessfulCreate", "create Pod web-2 in StatefulSet web successful")

	// A deleted pod comes back under its name.
	old := c.webPods()["web-1"].UID
	c.delete("pods", "default", "web-1", nil)
	c.watchSet(30*time.Second, func(map[string]corev1.Pod) {}, func(ps map[string]corev1.Pod) error {
		if p := ps["web-1"]; p.UID == old {
			return fmt.Errorf("web-1 not replaced yet")
		}
		return allRunning(3)(ps)
	})

	// Scale to 1: web-2 goes before web-1 does.
	c.apply(stsYAML(1, "web:1"))
	c.watchSet(30*time.Second, func(ps map[string]corev1.Pod) {
		if p, ok := ps["web-1"]; (!ok || p.DeletionTimestamp != nil) && hasPod(ps, "web-2") {
			t.Fatal("web-1 removed while web-2 is still there")
		}
	}, allRunning(1))
	c.wantEvent("SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful")

	// Back to 3, then an image change rolls from the highest ordinal.
	c.apply(stsYAML(3, "web:1"))
	c.watchSet(40*time.Second, ordered, allRunning(3))
	c.apply(stsYAML(3, "web:2"))
	var order []string
	updated := func(ps map[string]corev1.Pod) {
		for name, p := range ps {
			if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image == "web:2" && !slices.Contains(order, name) {
				order = append(order, name)
			}
		}
	}
	c.watchSet(60*time.Second, updated, func(ps map[string]corev1.Pod) error {
		if len(order) != 3 {
			return fmt.Errorf("updated %v", order)
		}
		return allRunning(3)(ps)
	})
	if strings.Join(order, ",") != "web-2,web-1,web-0" {
		t.Fatalf("update order %v, want web-2,web-1,web-0", order)
	}
	out, err := c.strom("rollout", "status", "sts/web", "--timeout", "30s")
	if err != nil || !strings.Contains(out, "statefulset rolling update complete 3 pods at revision web-") {
		t.Fatalf("rollout status %v: %s", err, out)
	}
	s := c.statefulSet("web").Status
	if s.Replicas != 3 || s.ReadyReplicas != 3 || s.UpdatedReplicas != 3 || s.CurrentRevision != s.UpdateRevision {
		t.Fatalf("status %+v", s)
	}
	if hist, err := c.strom("rollout", "history", "sts/web"); err != nil || !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		t.Fatalf("history %v:\n%s", err, hist)
	}
}

func hasPod(ps map[string]corev1.Pod, name string) bool {
	_, ok := ps[name]
	return ok
}
