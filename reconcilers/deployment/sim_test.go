package deployment

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// simPod is a pod of the simulated cluster.
type simPod struct {
	readyAt time.Time // zero: never ready
	created time.Time
}

// cluster simulates what Plan's shell, the ReplicaSet controller and the
// kubelets would do, with random readiness delays.
type cluster struct {
	t        *testing.T
	r        *rand.Rand
	now      time.Time
	d        *appsv1.Deployment
	rss      []*appsv1.ReplicaSet
	pods     map[types.UID][]*simPod
	nextUID  int
	maxDelay time.Duration
	steps    int
}

func newDeployment(replicas int32, surge, unavailable intstr.IntOrString) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "d-uid", Generation: 1},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "web:v1"}}},
			},
			Strategy: appsv1.DeploymentStrategy{
				Type:          appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{MaxSurge: &surge, MaxUnavailable: &unavailable},
			},
		},
	}
}

func (c *cluster) input() Input {
	running := map[types.UID]int32{}
	for uid, ps := range c.pods {
		running[uid] = int32(len(ps))
	}
	return Input{Deployment: c.d, ReplicaSets: c.rss, PodsRunning: running, Now: c.now}
}

// step plans once, applies the actions and lets the ReplicaSet
// controller act; it returns the actions.
func (c *cluster) step() Actions {
	c.t.Helper()
	c.steps++
	a, err := Plan(c.input())
	if err != nil {
		c.t.Fatalf("step %d: Plan: %v", c.steps, err)
	}
	if a.Create != nil {
		rs := a.Create.DeepCopy()
		c.nextUID++
		rs.UID = types.UID(fmt.Sprintf("rs-%d", c.nextUID))
		rs.Generation = 1
		rs.CreationTimestamp = metav1.NewTime(c.now.Add(time.Duration(c.nextUID) * time.Nanosecond))
		c.rss = append(c.rss, rs)
	}
	for _, u := range a.Update {
		for i, rs := range c.rss {
			if rs.Name == u.Name {
				u = u.DeepCopy()
				u.Generation = rs.Generation + 1
				c.rss[i] = u
			}
		}
	}
	for _, del := range a.Delete {
		for i, rs := range c.rss {
			if rs.Name == del.Name {
				if len(c.pods[rs.UID]) != 0 {
					c.t.Fatalf("step %d: deleting %s which still has pods", c.steps, rs.Name)
				}
				c.rss = append(c.rss[:i], c.rss[i+1:]...)
				break
			}
		}
	}
	if a.Annotations != nil {
		c.d.Annotations = a.Annotations
	}
	c.d.Status = a.Status
	c.syncReplicaSets()
	return a
}

// syncReplicaSets is the ReplicaSet controller: create or delete pods
// (not ready first, then ready for the shortest time, then newest) and
// write status.
func (c *cluster) syncReplicaSets() {
	for _, rs := range c.rss {
		pods := c.pods[rs.UID]
		want := int(specReplicas(rs))
		for len(pods) < want {
			var readyAt time.Time
			if c.maxDelay >= 0 {
				readyAt = c.now.Add(time.Duration(c.r.Int64N(int64(c.maxDelay) + 1)))
			}
			pods = append(pods, &simPod{readyAt: readyAt, created: c.now})
		}
		if len(pods) > want {
			sort.SliceStable(pods, func(i, j int) bool {
				ri, rj := c.ready(pods[i]), c.ready(pods[j])
				if ri != rj {
					return !ri
				}
				if !pods[i].readyAt.Equal(pods[j].readyAt) {
					return pods[i].readyAt.After(pods[j].readyAt)
				}
				return pods[i].created.After(pods[j].created)
			})
			pods = pods[len(pods)-want:]
		}
		c.pods[rs.UID] = pods
	}
	c.refreshStatus()
}

func (c *cluster) ready(p *simPod) bool { return !p.readyAt.IsZero() && !p.readyAt.After(c.now) }

func (c *cluster) available(p *simPod, minReady int32) bool {
	return c.ready(p) && !p.readyAt.Add(time.Duration(minReady)*time.Second).After(c.now)
}

func (c *cluster) refreshStatus() {
	for _, rs := range c.rss {
		var ready, avail int32
		for _, p := range c.pods[rs.UID] {
			if c.ready(p) {
				ready++
			}
			if c.available(p, rs.Spec.MinReadySeconds) {
				avail++
			}
		}
		rs.Status = appsv1.ReplicaSetStatus{Replicas: int32(len(c.pods[rs.UID])), ReadyReplicas: ready, AvailableReplicas: avail, ObservedGeneration: rs.Generation}
	}
}

// totals counts pods and available pods over all sets.
func (c *cluster) totals() (pods, available int32) {
	for _, rs := range c.rss {
		for _, p := range c.pods[rs.UID] {
			pods++
			if c.available(p, rs.Spec.MinReadySeconds) {
				available++
			}
		}
	}
	return
}

func (c *cluster) advance(d time.Duration) {
	c.now = c.now.Add(d)
	c.refreshStatus()
}

// settle runs steps until the Deployment is complete on its current
// template, checking check after every step.
func (c *cluster) settle(limit int, check func()) {
	c.t.Helper()
	for i := 0; i < limit; i++ {
		c.step()
		check()
		if c.complete() {
			return
		}
		c.advance(time.Duration(1+c.r.IntN(3)) * time.Second)
		check()
	}
	c.t.Fatalf("rollout did not complete in %d steps: deployment status %+v; sets %s", limit, c.d.Status, c.describe())
}

func (c *cluster) complete() bool {
	s := c.d.Status
	r := *c.d.Spec.Replicas
	if s.UpdatedReplicas != r || s.Replicas != r || s.AvailableReplicas != r {
		return false
	}
	var newRS *appsv1.ReplicaSet
	for _, rs := range c.rss {
		if EqualIgnoreHash(&rs.Spec.Template, &c.d.Spec.Template) {
			newRS = rs
		} else if len(c.pods[rs.UID]) > 0 {
			return false
		}
	}
	return newRS != nil && specReplicas(newRS) == r
}

func (c *cluster) describe() string {
	s := ""
	for _, rs := range c.rss {
		s += fmt.Sprintf(" %s(spec %d pods %d avail %d)", rs.Name, specReplicas(rs), len(c.pods[rs.UID]), rs.Status.AvailableReplicas)
	}
	return s
}

func randomIntOrPercent(r *rand.Rand) intstr.IntOrString {
	if r.IntN(2) == 0 {
		return intstr.FromInt32(int32(r.IntN(4)))
	}
	return intstr.FromString(fmt.Sprintf("%d%%", r.IntN(61)))
}

// TestRollingUpdateInvariants drives random rolling updates (random sizes,
// budgets, readiness delays, minReadySeconds, and sometimes a second
// template change mid-rollout) and checks at every step that available
// pods never fall below replicas−maxUnavailable, that pods never exceed
// replicas+maxSurge, and that every rollout completes.
func TestRollingUpdateInvariants(t *testing.T) {
	for seed := uint64(1); seed <= 300; seed++ {
		r := rand.New(rand.NewPCG(seed, 42))
		replicas := int32(1 + r.IntN(15))
		d := newDeployment(replicas, randomIntOrPercent(r), randomIntOrPercent(r))
		d.Spec.MinReadySeconds = int32(r.IntN(4))
		c := &cluster{t: t, r: r, now: t0, d: d, pods: map[types.UID][]*simPod{}, maxDelay: time.Duration(r.IntN(10)) * time.Second}
		surge, unavail, err := ResolveFenceposts(d.Spec.Strategy.RollingUpdate.MaxSurge, d.Spec.Strategy.RollingUpdate.MaxUnavailable, replicas)
		if err != nil {
			t.Fatal(err)
		}
		unavail = min(unavail, replicas)
		// Reach a steady first revision (no invariant yet: nothing exists).
		c.settle(200, func() {})
		check := func() {
			t.Helper()
			pods, avail := c.totals()
			if avail < replicas-unavail {
				t.Fatalf("seed %d step %d: %d available < %d replicas - %d maxUnavailable;%s", seed, c.steps, avail, replicas, unavail, c.describe())
			}
			if pods > replicas+surge {
				t.Fatalf("seed %d step %d: %d pods > %d replicas + %d maxSurge;%s", seed, c.steps, pods, replicas, surge, c.describe())
			}
		}
		for v := 2; v <= 3; v++ {
			c.d.Spec.Template.Spec.Containers[0].Image = fmt.Sprintf("web:v%d", v)
			c.d.Generation++
			if v == 2 && r.IntN(3) == 0 {
				// Roll over: change the template again after a few steps.
				for i := 0; i < 1+r.IntN(4); i++ {
					c.step()
					check()
					c.advance(time.Second)
					check()
				}
				c.d.Spec.Template.Spec.Containers[0].Image = "web:v2b"
				c.d.Generation++
			}
			c.settle(500, check)
			if got := c.d.Annotations[RevisionAnnotation]; got == "" {
				t.Fatalf("seed %d: deployment has no revision annotation", seed)
			}
		}
	}
}

// TestRecreateNeverOverlaps drives random Recreate rollouts and checks
// that old and new pods never run at the same time.
func TestRecreateNeverOverlaps(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		r := rand.New(rand.NewPCG(seed, 7))
		replicas := int32(1 + r.IntN(10))
		d := newDeployment(replicas, intstr.FromInt32(0), intstr.FromInt32(0))
		d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
		c := &cluster{t: t, r: r, now: t0, d: d, pods: map[types.UID][]*simPod{}, maxDelay: time.Duration(r.IntN(5)) * time.Second}
		c.settle(100, func() {})
		c.d.Spec.Template.Spec.Containers[0].Image = "web:v2"
		c.d.Generation++
		c.settle(200, func() {
			versions := 0
			for _, rs := range c.rss {
				if len(c.pods[rs.UID]) > 0 {
					versions++
				}
			}
			if versions > 1 {
				t.Fatalf("seed %d step %d: pods of %d revisions run at once:%s", seed, c.steps, versions, c.describe())
			}
		})
	}
}

// TestScalingDuringRolloutCompletes changes spec.replicas in the middle
// of random rollouts and checks that they still complete at the new size.
func TestScalingDuringRolloutCompletes(t *testing.T) {
	for seed := uint64(1); seed <= 100; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		d := newDeployment(int32(1+r.IntN(12)), randomIntOrPercent(r), randomIntOrPercent(r))
		c := &cluster{t: t, r: r, now: t0, d: d, pods: map[types.UID][]*simPod{}, maxDelay: time.Duration(r.IntN(6)) * time.Second}
		c.settle(200, func() {})
		c.d.Spec.Template.Spec.Containers[0].Image = "web:v2"
		c.d.Generation++
		for i := 0; i < 1+r.IntN(3); i++ {
			c.step()
			c.advance(time.Second)
		}
		n := int32(r.IntN(20))
		c.d.Spec.Replicas = &n
		c.d.Generation++
		c.settle(500, func() {})
		pods, _ := c.totals()
		if pods != n {
			t.Fatalf("seed %d: %d pods after scaling to %d", seed, pods, n)
		}
	}
}
