package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/reconcilers/daemonset"
	"github.com/strom-project/strom/test/logtest"
)

const daemonSetYAML = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: c, image: IMAGE}]
`

func (c *rcluster) daemonSet(name string) *appsv1.DaemonSet {
	c.t.Helper()
	var ds appsv1.DaemonSet
	if err := c.get("daemonsets", "default", name, &ds); err != nil {
		c.t.Fatal(err)
	}
	return &ds
}

// setTaints replaces a node's taints.
func (c *rcluster) setTaints(name string, taints ...corev1.Taint) {
	c.t.Helper()
	logtest.Eventually(c.t, 10*time.Second, func() error {
		var n corev1.Node
		if err := c.get("nodes", "", name, &n); err != nil {
			return err
		}
		keep := n.Spec.Taints[:0]
		for _, t := range n.Spec.Taints {
			if strings.HasPrefix(t.Key, "node.kubernetes.io/") {
				keep = append(keep, t) // the node lifecycle's own
			}
		}
		n.Spec.Taints = append(keep, taints...)
		return c.update(&n, "")
	})
}

// strom runs the strom CLI as the admin.
func (c *rcluster) strom(args ...string) (string, error) {
	out, err := exec.Command(filepath.Join(binDir, "strom"), append([]string{"--config", c.d.AdminConfig}, args...)...).CombinedOutput()
	return string(out), err
}

// A DaemonSet on hollow nodes: one Running pod per node, placed by the
// scheduler through a metadata.name node affinity; a joining node gets
// its pod; a NoSchedule taint keeps the pod there but no replacement
// comes once it is deleted, a NoExecute taint removes it; a template
// change rolls out one node at a time and `strom rollout status ds/agent`
// reports it done.
func TestDaemonSetOnHollowNodes(t *testing.T) {
	c := startCluster(t, "n1", "n2")
	c.apply(strings.ReplaceAll(daemonSetYAML, "IMAGE", "agent:1"))
	if got := c.runningOn("default", "app=agent", 2, 30*time.Second); got["n1"] != 1 || got["n2"] != 1 {
		t.Fatalf("pods per node %v", got)
	}
	for _, p := range c.pods("default", "app=agent") {
		if daemonset.TargetNode(&p) != p.Spec.NodeName || p.Labels["controller-revision-hash"] == "" {
			t.Fatalf("pod %s on %s: affinity for %q, labels %v", p.Name, p.Spec.NodeName, daemonset.TargetNode(&p), p.Labels)
		}
	}
	c.wantEvent("SuccessfulCreate", "Created pod: agent-")
	// strom trace explains the pod: the DaemonSet controller created it
	// because of an earlier event.
	p := c.pods("default", "app=agent")[0]
	out, err := c.strom("trace", "pod/"+p.Name)
	if err != nil || !strings.Contains(out, "Created pods default/"+p.Name+" by system:daemonset-controller") {
		t.Fatalf("trace %v:\n%s", err, out)
	}
	t.Logf("strom trace pod/%s:\n%s", p.Name, out)

	c.startAgent("n3")
	if got := c.runningOn("default", "app=agent", 3, 30*time.Second); got["n3"] != 1 {
		t.Fatalf("joined node: pods per node %v", got)
	}

	// NoSchedule: the pod stays (misscheduled); deleted, it is not replaced.
	c.setTaints("n2", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule})
	logtest.Eventually(t, 20*time.Second, func() error {
		if s := c.daemonSet("agent").Status; s.DesiredNumberScheduled != 2 || s.NumberMisscheduled != 1 {
			return fmt.Errorf("status %+v", s)
		}
		return nil
	})
	for _, p := range c.pods("default", "app=agent") {
		if p.Spec.NodeName == "n2" {
			c.delete("pods", "default", p.Name, map[string]string{"gracePeriodSeconds": "0"})
		}
	}
	if got := c.runningOn("default", "app=agent", 2, 30*time.Second); got["n2"] != 0 {
		t.Fatalf("tainted node got a pod: %v", got)
	}
	// Untainted, it gets one again; a NoExecute taint removes it.
	c.setTaints("n2")
	c.runningOn("default", "app=agent", 3, 30*time.Second)
	c.setTaints("n2", corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoExecute})
	if got := c.runningOn("default", "app=agent", 2, 30*time.Second); got["n2"] != 0 {
		t.Fatalf("NoExecute node kept its pod: %v", got)
	}
	c.setTaints("n2")
	c.runningOn("default", "app=agent", 3, 30*time.Second)

	// A rolling update, maxUnavailable 1: never two nodes without an
	// available daemon.
	c.apply(strings.ReplaceAll(daemonSetYAML, "IMAGE", "agent:2"))
	done := make(chan string, 1)
	go func() {
		out, err := c.strom("rollout", "status", "ds/agent", "--timeout", "60s")
		if err != nil {
			out += err.Error()
		}
		done <- out
	}()
	worst := 0
poll:
	for {
		select {
		case out = <-done:
			break poll
		case <-time.After(100 * time.Millisecond):
		}
		avail := map[string]bool{}
		for _, p := range c.pods("default", "app=agent") {
			if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && ready(&p) {
				avail[p.Spec.NodeName] = true
			}
		}
		worst = max(worst, 3-len(avail))
	}
	if !strings.Contains(out, `daemon set "agent" successfully rolled out`) {
		t.Fatalf("rollout status: %s", out)
	}
	if worst > 1 {
		t.Errorf("%d nodes without an available daemon at once, maxUnavailable is 1", worst)
	}
	for _, p := range c.pods("default", "app=agent") {
		if p.DeletionTimestamp == nil && p.Spec.Containers[0].Image != "agent:2" {
			t.Errorf("pod %s runs %s after the rollout", p.Name, p.Spec.Containers[0].Image)
		}
	}
	s := c.daemonSet("agent").Status
	if s.DesiredNumberScheduled != 3 || s.UpdatedNumberScheduled != 3 || s.NumberAvailable != 3 || s.NumberUnavailable != 0 {
		t.Fatalf("status %+v", s)
	}
	hist, err := c.strom("rollout", "history", "ds/agent")
	if err != nil || !strings.Contains(hist, "\n1 ") || !strings.Contains(hist, "\n2 ") {
		t.Fatalf("history %v:\n%s", err, hist)
	}
	// rollout undo goes back to revision 1's template, as revision 3.
	if out, err := c.strom("rollout", "undo", "ds/agent"); err != nil || !strings.Contains(out, "daemonset.apps/agent rolled back") {
		t.Fatalf("undo %v: %s", err, out)
	}
	logtest.Eventually(t, 30*time.Second, func() error {
		ds := c.daemonSet("agent")
		if s := ds.Status; ds.Spec.Template.Spec.Containers[0].Image != "agent:1" || s.ObservedGeneration != ds.Generation || s.UpdatedNumberScheduled != 3 || s.NumberAvailable != 3 {
			return fmt.Errorf("after undo: image %s status %+v", ds.Spec.Template.Spec.Containers[0].Image, s)
		}
		return nil
	})
	if hist, _ := c.strom("rollout", "history", "ds/agent"); !strings.Contains(hist, "\n3 ") || strings.Contains(hist, "\n1 ") {
		t.Fatalf("history after undo:\n%s", hist)
	}
	ev := c.wantEvent("SuccessfulDelete", "Deleted pod: agent-")
	if ev.Source.Component != "daemonset-controller" && ev.ReportingController != "daemonset-controller" {
		t.Errorf("event from %+v / %q", ev.Source, ev.ReportingController)
	}
}
