package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/strom-project/strom/agent"
	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/nodelifecycle"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

// rcluster is a stromd with the built-in reconcilers and hollow nodes,
// all in this process.
type rcluster struct {
	t      *testing.T
	d      *app.Stromd
	admin  *api.Client
	agents map[string]context.CancelFunc
	done   map[string]chan error
	// nodeCfg, when set, gives a node's client config (an external NATS
	// has no node credentials of stromd's making).
	nodeCfg func(name string) (*api.Config, error)
}

// startCluster starts stromd (node lease 2 s, eviction after 2 s) and
// the named hollow nodes, and waits until they are Ready.
func startCluster(t *testing.T, nodes ...string) *rcluster {
	t.Helper()
	d := clustertest.StartStromd(t, func(c *app.Config) {
		c.Reconcilers = app.BuiltinReconcilers(app.ReconcilerOptions{
			NodeLifecycle: nodelifecycle.Options{LeaseDuration: 2 * time.Second, EvictionTimeout: 2 * time.Second},
		})
	})
	c := &rcluster{t: t, d: d, admin: clustertest.AdminClient(t, d), agents: map[string]context.CancelFunc{}, done: map[string]chan error{}}
	for _, n := range nodes {
		c.startAgent(n)
	}
	t.Cleanup(func() {
		for n := range c.agents {
			c.stopAgent(n)
		}
	})
	logtest.Eventually(t, 20*time.Second, func() error {
		for _, n := range nodes {
			select {
			case err := <-c.done[n]:
				delete(c.agents, n) // its result is consumed: cleanup must not wait for it
				t.Fatalf("agent %s stopped: %v", n, err)
			default:
			}
			var node corev1.Node
			if err := c.get("nodes", "", n, &node); err != nil {
				return err
			}
		}
		return nil
	})
	return c
}

func (c *rcluster) startAgent(name string) {
	c.t.Helper()
	nodeCfg := c.d.NodeConfig // the node's own credential
	if c.nodeCfg != nil {
		nodeCfg = c.nodeCfg
	}
	cfg, err := nodeCfg(name)
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
		defer ac.Close()
		done <- agent.Run(ctx, agent.Config{NodeName: name, NodeIP: "10.0.0.1", Client: ac, Conn: ac.Conn(),
			Resync: 2 * time.Second, Heartbeat: 200 * time.Millisecond,
			Capacity: corev1.ResourceList{corev1.ResourceCPU: mustQty("4"), corev1.ResourceMemory: mustQty("8Gi"), corev1.ResourcePods: mustQty("110")}})
	}()
	c.agents[name], c.done[name] = cancel, done
}

// stopAgent stops a node's agent: its heartbeats stop, as if it died.
func (c *rcluster) stopAgent(name string) {
	if cancel := c.agents[name]; cancel != nil {
		cancel()
		select {
		case <-c.done[name]:
		case <-time.After(60 * time.Second):
			c.t.Errorf("agent %s did not stop within 60s", name)
		}
		delete(c.agents, name)
	}
}

func (c *rcluster) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c.t.Cleanup(cancel)
	return ctx
}

func (c *rcluster) apply(manifest string) {
	c.t.Helper()
	data, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.admin.Do(c.ctx(), api.VerbApply, &api.Request{Object: data, Namespace: "default"}); err != nil {
		c.t.Fatalf("apply: %v", err)
	}
}

func (c *rcluster) get(resource, ns, name string, into any) error {
	resp, err := c.admin.Do(c.ctx(), api.VerbGet, &api.Request{Resource: resource, Namespace: ns, Name: name})
	if err != nil {
		return err
	}
	return json.Unmarshal(resp.Object, into)
}

func (c *rcluster) update(obj any, ns string) error {
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = c.admin.Do(c.ctx(), api.VerbUpdate, &api.Request{Object: data, Namespace: ns})
	return err
}

func (c *rcluster) delete(resource, ns, name string, params map[string]string) {
	c.t.Helper()
	if _, err := c.admin.Do(c.ctx(), api.VerbDelete, &api.Request{Resource: resource, Namespace: ns, Name: name, Params: params}); err != nil {
		c.t.Fatalf("delete %s %s: %v", resource, name, err)
	}
}

// pods lists the pods of a namespace matching a label selector.
func (c *rcluster) pods(ns, selector string) []corev1.Pod {
	c.t.Helper()
	resp, err := c.admin.ListAll(c.ctx(), api.Request{Resource: "pods", Namespace: ns, LabelSelector: selector})
	if err != nil {
		c.t.Fatal(err)
	}
	out := make([]corev1.Pod, 0, len(resp.Items))
	for _, item := range resp.Items {
		var p corev1.Pod
		if err := json.Unmarshal(item, &p); err != nil {
			c.t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func (c *rcluster) exists(resource, ns, name string) bool {
	c.t.Helper()
	var m map[string]any
	err := c.get(resource, ns, name, &m)
	if events.IsNotFound(err) {
		return false
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return true
}

func ready(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// runningOn waits until want pods matching selector are Running and Ready
// (none terminating) and returns how many run on each node.
func (c *rcluster) runningOn(ns, selector string, want int, timeout time.Duration) map[string]int {
	c.t.Helper()
	var byNode map[string]int
	logtest.Eventually(c.t, timeout, func() error {
		byNode = map[string]int{}
		pods := c.pods(ns, selector)
		n := 0
		for i := range pods {
			p := &pods[i]
			if p.DeletionTimestamp != nil {
				return fmt.Errorf("pod %s still terminating", p.Name)
			}
			if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning || !ready(p) {
				return fmt.Errorf("pod %s: node %q phase %q", p.Name, p.Spec.NodeName, p.Status.Phase)
			}
			byNode[p.Spec.NodeName]++
			n++
		}
		if n != want {
			return fmt.Errorf("%d running pods, want %d", n, want)
		}
		return nil
	})
	return byNode
}

func deploymentYAML(name, image string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[1]s}
spec:
  replicas: %[3]d
  selector: {matchLabels: {app: %[1]s}}
  template:
    metadata: {labels: {app: %[1]s}}
    spec:
      containers: [{name: c, image: %[2]s, resources: {requests: {cpu: 100m}}}]
`, name, image, replicas)
}

func (c *rcluster) waitRolledOut(name string, replicas int32, image string) {
	c.t.Helper()
	logtest.Eventually(c.t, 60*time.Second, func() error {
		var d appsv1.Deployment
		if err := c.get("deployments", "default", name, &d); err != nil {
			return err
		}
		s := d.Status
		if d.Spec.Template.Spec.Containers[0].Image != image || s.ObservedGeneration < d.Generation ||
			s.UpdatedReplicas != replicas || s.Replicas != replicas || s.AvailableReplicas != replicas {
			return fmt.Errorf("deployment %s: %+v", name, s)
		}
		for _, p := range c.pods("default", "app="+name) {
			if p.Spec.Containers[0].Image != image {
				return fmt.Errorf("pod %s still runs %s", p.Name, p.Spec.Containers[0].Image)
			}
		}
		return nil
	})
}

// A Deployment of 5 gets 5 bound Running pods over the 3 nodes; a rollout
// to a new image keeps the rolling-update bounds at every event; undo and
// scale work.
func TestDeploymentRolloutUndoScale(t *testing.T) {
	c := startCluster(t, "n1", "n2", "n3")
	c.apply(deploymentYAML("web", "nginx:1", 5))
	byNode := c.runningOn("default", "app=web", 5, 30*time.Second)
	if len(byNode) != 3 {
		t.Fatalf("5 pods on %d nodes (%v), want spread over 3", len(byNode), byNode)
	}
	c.waitRolledOut("web", 5, "nginx:1")

	// Observe every pod event from now on and check the bounds
	// (maxSurge 25% of 5 → 2, maxUnavailable 25% → 1).
	st := c.d.Projection().Store()
	w, _ := st.Watch(context.Background(), projections.Query{Resource: "pods", Namespace: "default"})
	var mu sync.Mutex
	var violations, trace []string
	observed := 0
	state := map[string]*corev1.Pod{}
	for _, p := range c.pods("default", "app=web") {
		p := p
		state[p.Name] = &p
	}
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		for we := range w.C {
			if we.Event.Type == events.TypeDeleted {
				delete(state, we.Event.Name)
			} else {
				obj, err := we.Entry.Object()
				if err != nil {
					continue
				}
				state[we.Event.Name] = obj.(*corev1.Pod)
			}
			active, avail := 0, 0
			for _, p := range state {
				if p.Labels["app"] != "web" || p.DeletionTimestamp != nil {
					continue
				}
				active++
				if ready(p) {
					avail++
				}
			}
			mu.Lock()
			trace = append(trace, fmt.Sprintf("#%d %s %s by %s: active %d avail %d", we.Event.Seq, we.Event.Type, we.Event.Name, we.Event.Actor, active, avail))
			observed++
			if active > 5+2 {
				violations = append(violations, fmt.Sprintf("#%d: %d pods, more than replicas+maxSurge=7", we.Event.Seq, active))
			}
			if avail < 5-1 {
				violations = append(violations, fmt.Sprintf("#%d: %d available, fewer than replicas-maxUnavailable=4", we.Event.Seq, avail))
			}
			mu.Unlock()
		}
	}()
	var d appsv1.Deployment
	if err := c.get("deployments", "default", "web", &d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	if err := c.update(&d, "default"); err != nil {
		t.Fatal(err)
	}
	c.waitRolledOut("web", 5, "nginx:2")
	c.runningOn("default", "app=web", 5, 30*time.Second)
	w.Stop()
	<-watchDone
	mu.Lock()
	if len(violations) > 0 {
		t.Fatalf("rolling-update bounds violated:\n%s\n%s", strings.Join(violations, "\n"), strings.Join(trace, "\n"))
	}
	t.Logf("rollout: %d pod events observed, spread %v", observed, byNode)
	if observed < 15 {
		t.Fatalf("observed only %d pod events during the rollout", observed)
	}
	mu.Unlock()

	// Two ReplicaSets with revisions 1 and 2.
	resp, err := c.admin.ListAll(c.ctx(), api.Request{Resource: "replicasets", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	var revs []string
	for _, item := range resp.Items {
		var rs appsv1.ReplicaSet
		_ = json.Unmarshal(item, &rs)
		revs = append(revs, rs.Annotations["deployment.kubernetes.io/revision"]+"="+rs.Spec.Template.Spec.Containers[0].Image)
	}
	sort.Strings(revs)
	if fmt.Sprint(revs) != "[1=nginx:1 2=nginx:2]" {
		t.Fatalf("replicasets %v, want revisions 1=nginx:1 2=nginx:2", revs)
	}

	// Back to nginx:1 (the CLI test covers `rollout undo` itself): the
	// old ReplicaSet becomes the new one again.
	if err := c.get("deployments", "default", "web", &d); err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = "nginx:1"
	if err := c.update(&d, "default"); err != nil {
		t.Fatal(err)
	}
	c.waitRolledOut("web", 5, "nginx:1")

	// Scale down to 2.
	if err := c.get("deployments", "default", "web", &d); err != nil {
		t.Fatal(err)
	}
	two := int32(2)
	d.Spec.Replicas = &two
	if err := c.update(&d, "default"); err != nil {
		t.Fatal(err)
	}
	c.waitRolledOut("web", 2, "nginx:1")
	c.runningOn("default", "app=web", 2, 30*time.Second)

	// Events tell the story.
	c.wantEvent("ScalingReplicaSet", "Scaled down replica set")
	c.wantEvent("SuccessfulCreate", "Created pod: web-")
	c.wantEvent("Scheduled", "Successfully assigned default/web-")
}

// wantEvent waits for a Kubernetes Event with reason whose message
// contains msg.
func (c *rcluster) wantEvent(reason, msg string) corev1.Event {
	c.t.Helper()
	var found corev1.Event
	logtest.Eventually(c.t, 20*time.Second, func() error {
		resp, err := c.admin.ListAll(c.ctx(), api.Request{Resource: "events", AllNamespaces: true})
		if err != nil {
			return err
		}
		var seen []string
		for _, item := range resp.Items {
			var ev corev1.Event
			_ = json.Unmarshal(item, &ev)
			if ev.Reason == reason && strings.Contains(ev.Message, msg) {
				found = ev
				return nil
			}
			seen = append(seen, ev.Reason+": "+ev.Message)
		}
		return fmt.Errorf("no %s event with %q among %d: %v", reason, msg, len(seen), seen)
	})
	return found
}

func mustQty(s string) resource.Quantity { return resource.MustParse(s) }

func (c *rcluster) rsOf(deploy string) []appsv1.ReplicaSet {
	c.t.Helper()
	resp, err := c.admin.ListAll(c.ctx(), api.Request{Resource: "replicasets", Namespace: "default", LabelSelector: "app=" + deploy})
	if err != nil {
		c.t.Fatal(err)
	}
	out := make([]appsv1.ReplicaSet, 0, len(resp.Items))
	for _, item := range resp.Items {
		var rs appsv1.ReplicaSet
		_ = json.Unmarshal(item, &rs)
		out = append(out, rs)
	}
	return out
}

// Deleting a Deployment with each propagation policy.
func TestDeleteCascade(t *testing.T) {
	c := startCluster(t, "n1", "n2")

	// background: the Deployment goes at once, its ReplicaSet and pods next.
	c.apply(deploymentYAML("bg", "nginx:1", 2))
	c.runningOn("default", "app=bg", 2, 30*time.Second)
	c.delete("deployments", "default", "bg", map[string]string{"propagation": "background"})
	if c.exists("deployments", "default", "bg") {
		t.Fatal("background: deployment still there right after delete")
	}
	logtest.Eventually(t, 30*time.Second, func() error {
		if n, m := len(c.rsOf("bg")), len(c.pods("default", "app=bg")); n+m > 0 {
			return fmt.Errorf("background: %d replicasets, %d pods left", n, m)
		}
		return nil
	})

	// foreground: the Deployment stays (deleting) until its pods are gone.
	c.apply(deploymentYAML("fg", "nginx:1", 2))
	c.runningOn("default", "app=fg", 2, 30*time.Second)
	c.delete("deployments", "default", "fg", map[string]string{"propagation": "foreground"})
	var d appsv1.Deployment
	if err := c.get("deployments", "default", "fg", &d); err != nil {
		t.Fatalf("foreground: deployment gone before its dependents: %v", err)
	}
	if d.DeletionTimestamp == nil || len(d.Finalizers) == 0 || d.Finalizers[0] != "foregroundDeletion" {
		t.Fatalf("foreground: deployment not marked: deletionTimestamp %v finalizers %v", d.DeletionTimestamp, d.Finalizers)
	}
	logtest.Eventually(t, 30*time.Second, func() error {
		// The deployment first: once it is gone, every pod was gone
		// before, so a pod seen after that is a real violation (read in
		// the other order, the last pod and the owner may both go
		// between the two reads).
		gone := !c.exists("deployments", "default", "fg")
		pods := len(c.pods("default", "app=fg"))
		if gone && pods > 0 {
			t.Fatalf("foreground: deployment deleted while %d pods remain", pods)
		}
		if !gone || len(c.rsOf("fg")) > 0 {
			return fmt.Errorf("foreground: deployment gone %v, %d pods", gone, pods)
		}
		return nil
	})

	// orphan: the ReplicaSet and pods stay, without the owner reference.
	c.apply(deploymentYAML("or", "nginx:1", 2))
	c.runningOn("default", "app=or", 2, 30*time.Second)
	c.delete("deployments", "default", "or", map[string]string{"propagation": "orphan"})
	logtest.Eventually(t, 30*time.Second, func() error {
		if c.exists("deployments", "default", "or") {
			return fmt.Errorf("orphan: deployment still there")
		}
		rss := c.rsOf("or")
		if len(rss) != 1 || len(rss[0].OwnerReferences) != 0 {
			return fmt.Errorf("orphan: replicasets %d, want 1 without owner", len(rss))
		}
		return nil
	})
	// The orphaned ReplicaSet still runs its pods.
	time.Sleep(500 * time.Millisecond)
	c.runningOn("default", "app=or", 2, 10*time.Second)
}

// Deleting a namespace marks it Terminating, empties it, removes it.
func TestNamespaceDeletion(t *testing.T) {
	c := startCluster(t, "n1")
	c.apply(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"}}`)
	data, _ := yaml.YAMLToJSON([]byte(deploymentYAML("app", "nginx:1", 2)))
	if _, err := c.admin.Do(c.ctx(), api.VerbApply, &api.Request{Object: data, Namespace: "team"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.admin.Do(c.ctx(), api.VerbApply, &api.Request{Namespace: "team", Object: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"},"data":{"a":"b"}}`)}); err != nil {
		t.Fatal(err)
	}
	c.runningOn("team", "app=app", 2, 30*time.Second)
	c.delete("namespaces", "", "team", nil)
	var ns corev1.Namespace
	if err := c.get("namespaces", "", "team", &ns); err == nil {
		if ns.Status.Phase != corev1.NamespaceTerminating || ns.DeletionTimestamp == nil {
			t.Fatalf("namespace after delete: phase %q deletionTimestamp %v", ns.Status.Phase, ns.DeletionTimestamp)
		}
	} else if !events.IsNotFound(err) {
		t.Fatal(err)
	}
	// Creating inside is refused while it terminates (or it is gone).
	if _, err := c.admin.Do(c.ctx(), api.VerbCreate, &api.Request{Namespace: "team", Object: []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"late"}}`)}); err == nil {
		t.Fatal("created a ConfigMap in a terminating namespace")
	}
	logtest.Eventually(t, 30*time.Second, func() error {
		if c.exists("namespaces", "", "team") {
			return fmt.Errorf("namespace still there")
		}
		return nil
	})
	for _, res := range []string{"pods", "replicasets", "deployments", "configmaps"} {
		resp, err := c.admin.ListAll(c.ctx(), api.Request{Resource: res, Namespace: "team"})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Items) != 0 {
			t.Fatalf("%d %s left in deleted namespace", len(resp.Items), res)
		}
	}
}

// A node whose agent stops gets Ready=Unknown and the unreachable taint;
// its pods are recreated on the other nodes.
func TestNodeLostPodsRecreated(t *testing.T) {
	c := startCluster(t, "n1", "n2", "n3")
	c.apply(deploymentYAML("web", "nginx:1", 3))
	byNode := c.runningOn("default", "app=web", 3, 30*time.Second)
	var victim string
	for n := range byNode {
		victim = n
		break
	}
	c.stopAgent(victim)
	logtest.Eventually(t, 20*time.Second, func() error {
		var n corev1.Node
		if err := c.get("nodes", "", victim, &n); err != nil {
			return err
		}
		ready := ""
		for _, cd := range n.Status.Conditions {
			if cd.Type == corev1.NodeReady {
				ready = string(cd.Status)
			}
		}
		tainted := false
		for _, tn := range n.Spec.Taints {
			tainted = tainted || (tn.Key == "node.kubernetes.io/unreachable" && tn.Effect == corev1.TaintEffectNoExecute)
		}
		if ready != "Unknown" || !tainted {
			return fmt.Errorf("node %s: Ready=%s tainted=%v", victim, ready, tainted)
		}
		return nil
	})
	logtest.Eventually(t, 30*time.Second, func() error {
		after := c.runningOnNow("default", "app=web")
		if after[victim] > 0 || sum(after) != 3 {
			return fmt.Errorf("pods by node %v (victim %s)", after, victim)
		}
		return nil
	})
	c.wantEvent("NodeNotReady", victim)
	c.wantEvent("TaintManagerEviction", "unreachable")

	// The agent comes back: Ready again, taint removed.
	c.startAgent(victim)
	logtest.Eventually(t, 20*time.Second, func() error {
		var n corev1.Node
		if err := c.get("nodes", "", victim, &n); err != nil {
			return err
		}
		for _, cd := range n.Status.Conditions {
			if cd.Type == corev1.NodeReady && cd.Status != corev1.ConditionTrue {
				return fmt.Errorf("Ready=%s", cd.Status)
			}
		}
		if len(n.Spec.Taints) != 0 {
			return fmt.Errorf("taints %v", n.Spec.Taints)
		}
		return nil
	})
}

// runningOnNow counts Running, Ready, non-terminating pods per node.
func (c *rcluster) runningOnNow(ns, selector string) map[string]int {
	out := map[string]int{}
	for _, p := range c.pods(ns, selector) {
		p := p
		if p.DeletionTimestamp == nil && p.Status.Phase == corev1.PodRunning && ready(&p) {
			out[p.Spec.NodeName]++
		}
	}
	return out
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Evictions respect a PodDisruptionBudget: refused with TooManyRequests
// when the budget has no disruption left, allowed once replacements run.
func TestEvictionRespectsPDB(t *testing.T) {
	c := startCluster(t, "n1", "n2")
	c.apply(deploymentYAML("db", "nginx:1", 3))
	c.runningOn("default", "app=db", 3, 30*time.Second)
	c.apply(`{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"db"},"spec":{"minAvailable":3,"selector":{"matchLabels":{"app":"db"}}}}`)
	pods := c.pods("default", "app=db")
	evict := func(name string) error {
		_, err := c.admin.Do(c.ctx(), api.VerbEvict, &api.Request{Namespace: "default", Name: name})
		return err
	}
	refused := func(err error) {
		t.Helper()
		if events.ReasonOf(err) != api.ReasonTooManyRequests || !strings.Contains(err.Error(), "disruption budget") {
			t.Fatalf("eviction: %v, want TooManyRequests", err)
		}
	}
	refused(evict(pods[0].Name)) // 3 healthy, 3 required
	// One disruption allowed. The nodes' agents are stopped so that the
	// replacement cannot become Ready before the next eviction.
	c.apply(`{"apiVersion":"policy/v1","kind":"PodDisruptionBudget","metadata":{"name":"db"},"spec":{"maxUnavailable":1,"selector":{"matchLabels":{"app":"db"}}}}`)
	c.stopAgent("n1")
	c.stopAgent("n2")
	if err := evict(pods[0].Name); err != nil {
		t.Fatalf("first eviction (3 healthy, 2 required): %v", err)
	}
	refused(evict(pods[1].Name)) // 2 healthy, 2 required
	// Once the replacement runs, the budget allows another.
	c.startAgent("n1")
	c.startAgent("n2")
	logtest.Eventually(t, 30*time.Second, func() error { return evict(pods[1].Name) })
	c.runningOn("default", "app=db", 3, 30*time.Second)
}

// A pod that fits nowhere stays Pending with a FailedScheduling Event in
// kube-scheduler's words.
func TestUnschedulablePod(t *testing.T) {
	c := startCluster(t, "n1", "n2", "n3")
	c.apply(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge"},"spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"64"}}}]}}`)
	ev := c.wantEvent("FailedScheduling", "0/3 nodes are available: 3 Insufficient cpu.")
	if ev.InvolvedObject.Name != "huge" || ev.Type != corev1.EventTypeWarning {
		t.Fatalf("event about %s type %s", ev.InvolvedObject.Name, ev.Type)
	}
	var p corev1.Pod
	if err := c.get("pods", "default", "huge", &p); err != nil {
		t.Fatal(err)
	}
	if p.Spec.NodeName != "" || p.Status.Phase != corev1.PodPending {
		t.Fatalf("pod bound to %q phase %q", p.Spec.NodeName, p.Status.Phase)
	}
	// A big enough node arrives: the pod is scheduled there.
	cfg, _ := c.d.NodeConfig("big")
	ac, err := api.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		defer ac.Close()
		done <- agent.Run(ctx, agent.Config{NodeName: "big", Client: ac, Conn: ac.Conn(), Heartbeat: 200 * time.Millisecond,
			Capacity: corev1.ResourceList{corev1.ResourceCPU: mustQty("128"), corev1.ResourceMemory: mustQty("8Gi"), corev1.ResourcePods: mustQty("110")}})
	}()
	defer func() { cancel(); <-done }()
	logtest.Eventually(t, 20*time.Second, func() error {
		if err := c.get("pods", "default", "huge", &p); err != nil {
			return err
		}
		if p.Spec.NodeName != "big" {
			return fmt.Errorf("pod on %q", p.Spec.NodeName)
		}
		return nil
	})
}

// Two stromds share one NATS; stopping the leader hands the reconcilers
// to the standby within 15 s and reconciliation goes on.
func TestLeaderFailover(t *testing.T) {
	ns := logtest.StartNATS(t)
	start := func(name string) *app.Stromd {
		d, err := app.Start(context.Background(), app.Config{DataDir: t.TempDir(), NATSURL: ns.ClientURL(), NoAgent: true, NodeName: name,
			Reconcilers: app.BuiltinReconcilers(app.ReconcilerOptions{})})
		if err != nil {
			t.Fatalf("starting stromd %s: %v", name, err)
		}
		return d
	}
	a, b := start("a"), start("b")
	stopped := map[*app.Stromd]bool{}
	t.Cleanup(func() {
		for _, d := range []*app.Stromd{a, b} {
			if !stopped[d] {
				d.Stop()
			}
		}
	})
	_, js := logtest.Connect(t, ns)
	leaderOf := func() (string, error) {
		kv, err := js.KeyValue(context.Background(), events.LeaderBucket)
		if err != nil {
			return "", err
		}
		e, err := kv.Get(context.Background(), "controllers")
		if err != nil {
			return "", err
		}
		return string(e.Value()), nil
	}
	var first string
	logtest.Eventually(t, 15*time.Second, func() error {
		var err error
		first, err = leaderOf()
		return err
	})
	leader, standby := a, b
	if first == "b" {
		leader, standby = b, a
	}
	c := &rcluster{t: t, d: standby, admin: clustertest.AdminClient(t, standby), agents: map[string]context.CancelFunc{}, done: map[string]chan error{},
		// The test's NATS has no users: the agent connects as anyone.
		nodeCfg: func(name string) (*api.Config, error) {
			return &api.Config{Server: ns.ClientURL(), User: api.NodeUser(name)}, nil
		}}
	c.startAgent("n1")
	t.Cleanup(func() { c.stopAgent("n1") })
	c.apply(deploymentYAML("web", "nginx:1", 2))
	c.runningOn("default", "app=web", 2, 30*time.Second)

	t0 := time.Now()
	leader.Stop()
	stopped[leader] = true
	t.Logf("leader %s stopped in %v", first, time.Since(t0).Round(time.Millisecond))
	logtest.Eventually(t, 15*time.Second-time.Since(t0), func() error {
		id, err := leaderOf()
		if err != nil {
			return err
		}
		if id == first {
			return fmt.Errorf("leader still %s", id)
		}
		return nil
	})
	t.Logf("standby took over after %v", time.Since(t0).Round(time.Millisecond))
	// Reconciliation continues under the new leader. The new leader's
	// controllers write the Deployment's status meanwhile, so the scale
	// is a read-modify-write retried on a conflict, as clients do.
	logtest.Eventually(t, 10*time.Second, func() error {
		var d appsv1.Deployment
		if err := c.get("deployments", "default", "web", &d); err != nil {
			return err
		}
		four := int32(4)
		d.Spec.Replicas = &four
		return c.update(&d, "default")
	})
	c.runningOn("default", "app=web", 4, 15*time.Second)
}

func (c *rcluster) setUnschedulable(on bool, nodes ...string) {
	c.t.Helper()
	for _, name := range nodes {
		logtest.Eventually(c.t, 10*time.Second, func() error {
			var n corev1.Node
			if err := c.get("nodes", "", name, &n); err != nil {
				return err
			}
			n.Spec.Unschedulable = on
			return c.update(&n, "")
		})
	}
}
