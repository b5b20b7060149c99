package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
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
	c.inLogOrder(events.TypeCreated, "web-0", "web-1", "web-2")
	for name, p := range c.webPods() {
		if p.Spec.Hostname != name || p.Spec.Subdomain != "web" || p.Labels["statefulset.kubernetes.io/pod-name"] != name || p.Labels["controller-revision-hash"] == "" {
			t.Fatalf("pod %s: hostname %q subdomain %q labels %v", name, p.Spec.Hostname, p.Spec.Subdomain, p.Labels)
		}
	}
	c.wantEvent("SuccessfulCreate", "create Pod web-2 in StatefulSet web successful")
	// A headless Service named by serviceName gives each pod its
	// hostname in the Endpoints (what per-pod DNS serves).
	c.apply("apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {clusterIP: None, selector: {app: web}, ports: [{port: 80}]}\n")
	logtest.Eventually(t, 20*time.Second, func() error {
		var ep corev1.Endpoints
		if err := c.get("endpoints", "default", "web", &ep); err != nil {
			return err
		}
		var hosts []string
		for _, ss := range ep.Subsets {
			for _, a := range ss.Addresses {
				hosts = append(hosts, a.Hostname)
			}
		}
		slices.Sort(hosts)
		if strings.Join(hosts, ",") != "web-0,web-1,web-2" {
			return fmt.Errorf("endpoint hostnames %v", hosts)
		}
		return nil
	})

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
	c.inLogOrder(events.TypeDeleted, "web-2", "web-1")
	c.wantEvent("SuccessfulDelete", "delete Pod web-2 in StatefulSet web successful")

	// Back to 3, then an image change rolls from the highest ordinal.
	c.apply(stsYAML(3, "web:1"))
	c.watchSet(40*time.Second, ordered, allRunning(3))
	c.apply(stsYAML(3, "web:2"))
	c.watchSet(60*time.Second, func(map[string]corev1.Pod) {}, func(ps map[string]corev1.Pod) error {
		for name, p := range ps {
			if p.Spec.Containers[0].Image != "web:2" {
				return fmt.Errorf("%s runs %s", name, p.Spec.Containers[0].Image)
			}
		}
		return allRunning(3)(ps)
	})
	c.inLogOrder(events.TypeCreated, "web-2", "web-1", "web-0") // the updated pods
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
	// rollout undo brings revision 1's template back (as revision 3).
	if out, err := c.strom("rollout", "undo", "sts/web"); err != nil || !strings.Contains(out, "statefulset.apps/web rolled back") {
		t.Fatalf("undo %v: %s", err, out)
	}
	c.watchSet(60*time.Second, func(map[string]corev1.Pod) {}, func(ps map[string]corev1.Pod) error {
		for name, p := range ps {
			if p.Spec.Containers[0].Image != "web:1" {
				return fmt.Errorf("%s runs %s", name, p.Spec.Containers[0].Image)
			}
		}
		if s := c.statefulSet("web").Status; s.CurrentRevision != s.UpdateRevision || s.UpdatedReplicas != 3 {
			return fmt.Errorf("status %+v", s)
		}
		return allRunning(3)(ps)
	})
}

// lastSeq is the log sequence of the last event of type typ about pod
// name (any incarnation of it).
func (c *rcluster) lastSeq(name string, typ events.Type) uint64 {
	c.t.Helper()
	resp, err := c.admin.Do(c.ctx(), api.VerbHistory, &api.Request{Resource: "pods", Namespace: "default", Name: name})
	if err != nil {
		c.t.Fatal(err)
	}
	var seq uint64
	for _, h := range resp.History {
		if h.Type == typ && h.Seq > seq {
			seq = h.Seq
		}
	}
	return seq
}

// inLogOrder fails unless the pods' last events of type typ are in the
// log in the order given.
func (c *rcluster) inLogOrder(typ events.Type, names ...string) {
	c.t.Helper()
	var prev uint64
	for _, n := range names {
		seq := c.lastSeq(n, typ)
		if seq == 0 || seq <= prev {
			c.t.Fatalf("%s %s at seq %d, not after the previous one (%d); want the order %v", n, typ, seq, prev, names)
		}
		prev = seq
		c.t.Logf("%s %s at seq %d", n, typ, seq)
	}
}

func hasPod(ps map[string]corev1.Pod, name string) bool {
	_, ok := ps[name]
	return ok
}
