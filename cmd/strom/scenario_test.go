package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/clustertest"
	"github.com/strom-project/strom/test/logtest"
)

// scenarioKey seals the scenario's Secrets; it protects nothing.
const scenarioKey = "strom-timetravel-key-32-bytes!!!"

// scenario is what the time-travel tests replay: a rollout written the
// way the controllers write it (each write's Cause is the id of the event
// that triggered it), a node failure that evicts a pod, Secrets, and
// cluster-scoped kinds.
type scenario struct {
	d     *app.Stromd
	clock *clocktesting.FakeClock
	dir   string
	// Sequences of interesting points.
	afterRollout1, afterSecretV1, afterRollout2, afterNodeFailure, end uint64
}

func startScenarioCluster(t *testing.T) *scenario {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "secret.key"), []byte(scenarioKey), 0o600); err != nil {
		t.Fatal(err)
	}
	clock := clocktesting.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	d := clustertest.StartStromd(t, func(c *app.Config) {
		c.DataDir, c.Clock, c.NoControllers = dir, clock, true
	})
	return &scenario{d: d, clock: clock, dir: dir}
}

func (s *scenario) keyFile() string { return filepath.Join(s.dir, "secret.key") }

// write runs the scenario through the write path.
func (s *scenario) write(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	w := s.d.Writer()
	step := func(res *events.Result, err error) *events.Result {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		s.clock.Step(1500 * time.Millisecond)
		return res
	}
	as := func(actor, cause string) events.WriteOptions { return events.WriteOptions{Actor: actor, Cause: cause} }
	step(w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, as("admin", "req:ns-shop")))
	node := step(w.Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"kubernetes.io/hostname": "node-a"}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}, as("node/node-a", "req:node-register")))
	step(w.Apply(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "viewer"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, as("admin", "req:role-1")))

	// Rollout 1: apply → replica set → two pods → scheduled → running.
	dep := deploymentObj("shop:1", 2)
	d1 := step(w.Apply(ctx, dep, as("admin", "req:apply-1")))
	rs1 := step(w.Create(ctx, replicaSetObj("web-1", "shop:1", 2, d1.Object), as("deployment-controller", d1.EventID)))
	var pods []*events.Result
	for _, name := range []string{"web-1-a", "web-1-b"} {
		p := step(w.Create(ctx, podObj(name, "shop:1", rs1.Object), as("replicaset-controller", rs1.EventID)))
		pods = append(pods, p)
	}
	var running []*events.Result
	for _, p := range pods {
		pod := p.Object.(*corev1.Pod).DeepCopy()
		pod.Spec.NodeName = "node-a"
		sch := step(w.Update(ctx, pod, as("scheduler", p.EventID)))
		pod = sch.Object.(*corev1.Pod).DeepCopy()
		pod.Status.Phase = corev1.PodRunning
		pod.Status.PodIP = "10.42.0.10"
		run := step(w.UpdateStatus(ctx, pod, as("node/node-a", sch.EventID)))
		running = append(running, run)
	}
	s.afterRollout1 = running[len(running)-1].Seq

	// A secret, changed once.
	step(w.Apply(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Data: map[string][]byte{"password": []byte("s3cret-v1")}}, as("admin", "req:secret-1")))
	s.afterSecretV1 = s.lastSeq(t)
	step(w.Apply(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app.config", Namespace: "shop"}, Data: map[string]string{"mode": "a"}}, as("admin", "req:cm-1")))
	step(w.Apply(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Data: map[string][]byte{"password": []byte("s3cret-v2")}}, as("admin", "req:secret-2")))

	// Rollout 2: new image and three replicas.
	d2 := step(w.Apply(ctx, deploymentObj("shop:2", 3), as("admin", "req:apply-2")))
	rs2 := step(w.Create(ctx, replicaSetObj("web-2", "shop:2", 3, d2.Object), as("deployment-controller", d2.EventID)))
	step(w.Create(ctx, podObj("web-2-a", "shop:2", rs2.Object), as("replicaset-controller", rs2.EventID)))
	step(w.Apply(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "viewer"},
		Rules: []rbacv1.PolicyRule{{Verbs: []string{"get", "list"}, APIGroups: []string{""}, Resources: []string{"pods"}}}}, as("admin", "req:role-2")))
	s.afterRollout2 = s.lastSeq(t)

	// Node failure: the node controller sees the heartbeat expire, marks
	// the node NotReady, and evicts its pod.
	n := node.Object.(*corev1.Node).DeepCopy()
	n.Status.Conditions[0].Status = corev1.ConditionUnknown
	notReady := step(w.UpdateStatus(ctx, n, as("node-controller", "heartbeat-expired:node-a")))
	step(w.Delete(ctx, objects.ByKind("Pod"), "shop", "web-1-a", events.DeleteOptions{Now: true}, as("node-controller", notReady.EventID)))
	s.afterNodeFailure = s.lastSeq(t)
	step(w.Delete(ctx, objects.ByKind("ConfigMap"), "shop", "app.config", events.DeleteOptions{Now: true}, as("admin", "req:cm-delete")))
	s.end = s.lastSeq(t)
	logtest.Eventually(t, 10*time.Second, func() error {
		return s.d.Projection().Store().WaitFor(ctx, s.end)
	})
}

func (s *scenario) lastSeq(t *testing.T) uint64 {
	seq, err := events.LastSeq(context.Background(), s.d.JetStream())
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

func deploymentObj(image string, replicas int32) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop", Labels: map[string]string{"app": "web"}},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}}}},
	}
}

func ownerRef(owner objects.Object, kind string) []metav1.OwnerReference {
	yes := true
	return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: owner.GetName(), UID: owner.GetUID(), Controller: &yes}}
}

func replicaSetObj(name, image string, replicas int32, owner objects.Object) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": "web"}, OwnerReferences: ownerRef(owner, "Deployment")},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}}}},
	}
}

func podObj(name, image string, owner objects.Object) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": "web"}, OwnerReferences: ownerRef(owner, "ReplicaSet")},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: image}}},
	}
}
