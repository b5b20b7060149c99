package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

// A hollow agent over a real stromd: the node registers, heartbeats go to
// the lease bucket (not the log), bound pods are reported Running through
// the feed, and a graceful delete completes once the node confirms.
func TestHollowAgentLifecycle(t *testing.T) {
	d := clustertest.StartStromd(t)
	cfg, err := d.NodeConfig("hollow-1")
	if err != nil {
		t.Fatal(err)
	}
	ac, err := api.Dial(cfg) // the node's own credential, as a remote agent has
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- agent.Run(ctx, agent.Config{NodeName: "hollow-1", NodeIP: "10.0.0.1", Client: ac, Conn: ac.Conn(),
			Resync: time.Hour, Heartbeat: 100 * time.Millisecond})
	}()
	admin := clustertest.AdminClient(t, d)
	logtest.Eventually(t, 10*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("agent stopped: %v", err)
		default:
		}
		resp, err := admin.Do(ctx, api.VerbGet, &api.Request{Resource: "nodes", Name: "hollow-1"})
		if err != nil {
			return err
		}
		var n corev1.Node
		_ = json.Unmarshal(resp.Object, &n)
		if n.Status.Capacity.Cpu().IsZero() || n.Labels["kubernetes.io/hostname"] != "hollow-1" {
			return fmt.Errorf("node not complete: %+v", n.Status.Capacity)
		}
		// The control plane's node IPAM assigns the first pod CIDR.
		if n.Spec.PodCIDR != "10.42.0.0/24" {
			return fmt.Errorf("pod CIDR %q, want 10.42.0.0/24", n.Spec.PodCIDR)
		}
		return nil
	})
	// Heartbeats land in the KV bucket and do not grow the log.
	kv, err := d.JetStream().KeyValue(ctx, events.LeaseBucket)
	if err != nil {
		t.Fatal(err)
	}
	logtest.Eventually(t, 5*time.Second, func() error {
		_, err := kv.Get(ctx, events.LeaseKey("hollow-1"))
		return err
	})
	seq1, _ := events.LastSeq(ctx, d.JetStream())
	time.Sleep(500 * time.Millisecond) // ~5 heartbeats
	// Controllers may still be writing their start-up objects (a
	// namespace's default ServiceAccount): none of it may be the node's.
	seq2, _ := events.LastSeq(ctx, d.JetStream())
	st, err := d.JetStream().Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	for seq := seq1 + 1; seq <= seq2; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject == events.Subject("nodes", "", "hollow-1") {
			t.Fatalf("heartbeats grew the event log: #%d is the node's (%d events in 500 ms)", seq, seq2-seq1)
		}
		t.Logf("#%d meanwhile: %s", seq, m.Subject)
	}
	e, _ := kv.Get(ctx, events.LeaseKey("hollow-1"))
	if e.Revision() < 3 {
		t.Fatalf("lease renewed %d times, want several", e.Revision())
	}

	pod := []byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1"},"spec":{"nodeName":"hollow-1","containers":[{"name":"c","image":"busybox"}]}}`)
	if _, err := admin.Do(ctx, api.VerbApply, &api.Request{Object: pod, Namespace: "default"}); err != nil {
		t.Fatal(err)
	}
	logtest.Eventually(t, 10*time.Second, func() error {
		p, err := getPod(ctx, admin, "p1")
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 1 || !p.Status.ContainerStatuses[0].Ready {
			return fmt.Errorf("phase %q", p.Status.Phase)
		}
		return nil
	})
	// Graceful delete: marked first, gone once the node confirms.
	resp, err := admin.Do(ctx, api.VerbDelete, &api.Request{Resource: "pods", Namespace: "default", Name: "p1"})
	if err != nil || resp.Outcome != "deleted" {
		t.Fatalf("delete: %v %v", resp, err)
	}
	logtest.Eventually(t, 10*time.Second, func() error {
		_, err := getPod(ctx, admin, "p1")
		if events.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("pod still there: %v", err)
	})
	hist, err := admin.Do(ctx, api.VerbHistory, &api.Request{Resource: "pods", Namespace: "default", Name: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, h := range hist.History {
		types = append(types, string(h.Type)+"/"+h.Actor)
	}
	want := []string{"Created/admin", "StatusUpdated/system:node:hollow-1", "Updated/admin", "Deleted/system:node:hollow-1"}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Fatalf("pod history %v, want %v", types, want)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func getPod(ctx context.Context, c *api.Client, name string) (*corev1.Pod, error) {
	resp, err := c.Do(ctx, api.VerbGet, &api.Request{Resource: "pods", Namespace: "default", Name: name})
	if err != nil {
		return nil, err
	}
	var p corev1.Pod
	return &p, json.Unmarshal(resp.Object, &p)
}

// Static pods: a manifest in the directory becomes a pod bound to the
// node, named <name>-<node>; removing the file removes the pod.
func TestStaticPods(t *testing.T) {
	d := clustertest.StartStromd(t, func(c *app.Config) { c.NoControllers = true })
	admin := clustertest.AdminClient(t, d)
	dir := t.TempDir()
	manifest := filepath.Join(dir, "etcd.yaml")
	if err := os.WriteFile(manifest, []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\nspec:\n  containers: [{name: etcd, image: etcd}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go agent.Run(ctx, agent.Config{NodeName: "n1", Client: admin, Conn: admin.Conn(), ManifestDir: dir, Resync: time.Hour})
	get := func() (*corev1.Pod, error) {
		resp, err := admin.Do(ctx, api.VerbGet, &api.Request{Resource: "pods", Namespace: "kube-system", Name: "etcd-n1"})
		if err != nil {
			return nil, err
		}
		var p corev1.Pod
		return &p, json.Unmarshal(resp.Object, &p)
	}
	logtest.Eventually(t, 10*time.Second, func() error {
		p, err := get()
		if err != nil {
			return err
		}
		if p.Spec.NodeName != "n1" || p.Annotations[agent.StaticAnnotation] != manifest {
			return fmt.Errorf("static pod %+v", p.ObjectMeta)
		}
		return nil
	})
	if err := os.Remove(manifest); err != nil {
		t.Fatal(err)
	}
	// The next pass (every 20 s) deletes it; the hollow node confirms.
	logtest.Eventually(t, 30*time.Second, func() error {
		if _, err := get(); events.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("static pod still there")
	})
}
