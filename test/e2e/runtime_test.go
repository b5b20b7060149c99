package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/logtest"
)

// node reads node-1 as stored.
func (n *realNode) node() (*corev1.Node, error) {
	resp, err := n.admin.Do(context.Background(), api.VerbGet, &api.Request{Resource: "nodes", Name: "node-1"})
	if err != nil {
		return nil, err
	}
	var node corev1.Node
	return &node, json.Unmarshal(resp.Object, &node)
}

// nodeReady returns the node's Ready condition.
func (n *realNode) nodeReady(t testing.TB) (*corev1.NodeCondition, error) {
	node, err := n.node()
	if err != nil {
		return nil, err
	}
	for i := range node.Status.Conditions {
		if c := &node.Status.Conditions[i]; c.Type == corev1.NodeReady {
			return c, nil
		}
	}
	return nil, fmt.Errorf("node-1 has no Ready condition")
}

// waitNotReadyTaint waits until node-1 has (want) or has not the
// node.kubernetes.io/not-ready:NoExecute taint.
func (n *realNode) waitNotReadyTaint(t testing.TB, want bool) {
	t.Helper()
	logtest.Eventually(t, 30*time.Second, func() error {
		node, err := n.node()
		if err != nil {
			return err
		}
		has := false
		for _, tn := range node.Spec.Taints {
			has = has || (tn.Key == corev1.TaintNodeNotReady && tn.Effect == corev1.TaintEffectNoExecute)
		}
		if has != want {
			return fmt.Errorf("not-ready taint present %v, want %v (taints %v)", has, want, node.Spec.Taints)
		}
		return nil
	})
}

func (n *realNode) waitNodeReady(t testing.TB, status corev1.ConditionStatus, reason, message string) {
	t.Helper()
	logtest.Eventually(t, 30*time.Second, func() error {
		c, err := n.nodeReady(t)
		if err != nil {
			return err
		}
		if c.Status != status || c.Reason != reason || (message != "" && c.Message != message) {
			return fmt.Errorf("Ready=%s %s %q, want %s %s %q", c.Status, c.Reason, c.Message, status, reason, message)
		}
		return nil
	})
}

// A node whose container runtime is down is NotReady with kubelet's
// reason and message, gets no new pods, and comes back Ready by itself
// when the runtime returns; a container that ran through the outage is
// not restarted.
func TestNodeNotReadyWhileRuntimeIsDown(t *testing.T) {
	n := startRealNodeWith(t, nodeOptions{runtimeDown: true, runtimeCheck: 300 * time.Millisecond})
	n.waitNodeReady(t, corev1.ConditionFalse, "KubeletNotReady", "container runtime is down")
	n.waitNotReadyTaint(t, true)

	// Not scheduled while the node is NotReady.
	n.apply(t, `apiVersion: v1
kind: Pod
metadata: {name: sleeper}
spec:
  containers:
  - {name: main, image: strom.test/busybox:1, command: [sleep, "3600"]}
`)
	time.Sleep(2 * time.Second)
	if p, err := n.pod(t, "sleeper"); err != nil || p.Spec.NodeName != "" {
		t.Fatalf("pod on a NotReady node: %v %+v", err, p)
	}

	// containerd comes up: Ready, and the pod is scheduled and runs.
	n.ctr.Restart(t)
	n.waitNodeReady(t, corev1.ConditionTrue, "KubeletReady", "")
	n.waitNotReadyTaint(t, false)
	var running *corev1.Pod
	logtest.Eventually(t, 60*time.Second, func() error {
		p, err := n.pod(t, "sleeper")
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 1 || p.Status.ContainerStatuses[0].ContainerID == "" {
			return fmt.Errorf("sleeper phase %q node %q", p.Status.Phase, p.Spec.NodeName)
		}
		running = p
		return nil
	})

	// containerd dies while the pod runs: NotReady; it returns: Ready,
	// and the container is the same one, never restarted.
	n.ctr.Kill(t)
	n.waitNodeReady(t, corev1.ConditionFalse, "KubeletNotReady", "container runtime is down")
	n.ctr.Restart(t)
	n.waitNodeReady(t, corev1.ConditionTrue, "KubeletReady", "")
	time.Sleep(2 * time.Second) // a few resyncs and runtime checks
	p, err := n.pod(t, "sleeper")
	if err != nil {
		t.Fatal(err)
	}
	before, after := running.Status.ContainerStatuses[0], p.Status.ContainerStatuses[0]
	if p.Status.Phase != corev1.PodRunning || after.ContainerID != before.ContainerID || after.RestartCount != 0 {
		t.Fatalf("after the outage: phase %q container %s restarts %d, want Running, %s, 0", p.Status.Phase, after.ContainerID, after.RestartCount, before.ContainerID)
	}

	// The transitions are Events on the node, as kubelet records them.
	out, err := n.strom(t, "get", "events", "--field-selector", "involvedObject.name=node-1,involvedObject.kind=Node")
	if err != nil {
		t.Fatalf("get events: %v %s", err, out)
	}
	for _, want := range []string{"NodeNotReady", "NodeReady"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s event on the node:\n%s", want, out)
		}
	}
}

// A node under memory pressure (here: a threshold above the machine's
// memory) reports MemoryPressure=True as kubelet does, is tainted
// memory-pressure:NoSchedule, and gets only pods that tolerate it.
func TestNodeUnderMemoryPressure(t *testing.T) {
	th := agent.DefaultPressureThresholds
	th.MemoryAvailable = 1 << 62
	n := startRealNodeWith(t, nodeOptions{pressure: &th})
	logtest.Eventually(t, 30*time.Second, func() error {
		node, err := n.node()
		if err != nil {
			return err
		}
		pressure, tainted := false, false
		for _, c := range node.Status.Conditions {
			pressure = pressure || (c.Type == corev1.NodeMemoryPressure && c.Status == corev1.ConditionTrue && c.Reason == "KubeletHasInsufficientMemory")
		}
		for _, tn := range node.Spec.Taints {
			tainted = tainted || (tn.Key == corev1.TaintNodeMemoryPressure && tn.Effect == corev1.TaintEffectNoSchedule)
		}
		if !pressure || !tainted {
			return fmt.Errorf("MemoryPressure %v, taint %v: conditions %v taints %v", pressure, tainted, node.Status.Conditions, node.Spec.Taints)
		}
		return nil
	})
	n.apply(t, `apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  containers:
  - {name: main, image: strom.test/busybox:1, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: tolerant}
spec:
  tolerations: [{key: node.kubernetes.io/memory-pressure, operator: Exists, effect: NoSchedule}]
  containers:
  - {name: main, image: strom.test/busybox:1, command: [sleep, "3600"]}
`)
	logtest.Eventually(t, 60*time.Second, func() error {
		p, err := n.pod(t, "tolerant")
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("tolerant: phase %q node %q", p.Status.Phase, p.Spec.NodeName)
		}
		return nil
	})
	if p, err := n.pod(t, "plain"); err != nil || p.Spec.NodeName != "" {
		t.Fatalf("a pod not tolerating memory pressure was placed: %v %+v", err, p.Spec)
	}
}

// A node whose CNI plugins are missing is NotReady with kubelet's network
// message and turns Ready once they are installed; a pod then runs.
func TestNodeNotReadyWithoutCNIPlugins(t *testing.T) {
	dir := t.TempDir()
	n := startRealNodeWith(t, nodeOptions{cniDirs: []string{dir}, runtimeCheck: 300 * time.Millisecond})
	logtest.Eventually(t, 30*time.Second, func() error {
		c, err := n.nodeReady(t)
		if err != nil {
			return err
		}
		if c.Status != corev1.ConditionFalse || c.Reason != "KubeletNotReady" || !strings.HasPrefix(c.Message, agent.MessageNetworkNotReady) || !strings.Contains(c.Message, "CNI plugin not found") {
			return fmt.Errorf("Ready=%s %s %q", c.Status, c.Reason, c.Message)
		}
		return nil
	})
	for _, p := range []string{"bridge", "host-local", "portmap", "loopback"} {
		if err := os.Symlink(filepath.Join("/usr/lib/cni", p), filepath.Join(dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	n.waitNodeReady(t, corev1.ConditionTrue, "KubeletReady", "")
	n.apply(t, `apiVersion: v1
kind: Pod
metadata: {name: after}
spec:
  containers:
  - {name: main, image: strom.test/busybox:1, command: [sleep, "3600"]}
`)
	logtest.Eventually(t, 60*time.Second, func() error {
		p, err := n.pod(t, "after")
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			return fmt.Errorf("after: phase %q ip %q", p.Status.Phase, p.Status.PodIP)
		}
		return nil
	})
}
