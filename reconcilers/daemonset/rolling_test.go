package daemonset

import (
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// sim is a cluster where deletions are immediate, creations bind at once,
// and pods become ready when told.
type sim struct {
	t     *testing.T
	ds    *appsv1.DaemonSet
	nodes []*corev1.Node
	pods  []*corev1.Pod
	now   time.Time
}

func newSim(t *testing.T, ds *appsv1.DaemonSet, n int) *sim {
	s := &sim{t: t, ds: ds, now: t0}
	for i := 0; i < n; i++ {
		node := fmt.Sprintf("n%02d", i)
		s.nodes = append(s.nodes, mkNode(node))
		s.pods = append(s.pods, podOn(ds, fmt.Sprintf("agent-old%02d", i), node, t0))
	}
	return s
}

// step plans once and applies the plan.
func (s *sim) step() Plan {
	s.now = s.now.Add(time.Second)
	p := plan(Input{DaemonSet: s.ds, Nodes: s.nodes, Pods: s.pods, Now: s.now})
	for _, d := range p.Delete {
		s.pods = slices.DeleteFunc(s.pods, func(q *corev1.Pod) bool { return q.Name == d.Name })
	}
	for _, c := range p.Create {
		c.Spec.NodeName = TargetNode(c)
		c.CreationTimestamp = metav1.NewTime(s.now)
		c.Status.Phase = corev1.PodPending
		s.pods = append(s.pods, c)
	}
	return p
}

// ready makes every pending pod ready.
func (s *sim) ready() {
	for _, p := range s.pods {
		if p.Status.Phase == corev1.PodPending {
			p.Status.Phase = corev1.PodRunning
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(s.now)}}
		}
	}
}

// unavailable counts nodes with no available pod; updated counts new pods.
func (s *sim) counts() (unavailable, updated, total int) {
	hash := hashOf(s.ds)
	avail := map[string]bool{}
	for _, p := range s.pods {
		if ready, _ := podReady(p); ready {
			avail[p.Spec.NodeName] = true
		}
		if p.Labels["controller-revision-hash"] == hash {
			updated++
		}
	}
	return len(s.nodes) - len(avail), updated, len(s.pods)
}

func podReady(p *corev1.Pod) (bool, time.Time) {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue, c.LastTransitionTime.Time
		}
	}
	return false, time.Time{}
}

func TestBudget(t *testing.T) {
	for _, tc := range []struct {
		mu, ms      intstr.IntOrString
		desired     int
		surge, unav int
	}{
		{intstr.FromString("10%"), intstr.FromInt32(0), 20, 0, 2},
		{intstr.FromString("10%"), intstr.FromInt32(0), 5, 0, 1}, // rounded up
		{intstr.FromString("25%"), intstr.FromInt32(0), 10, 0, 3},
		{intstr.FromInt32(0), intstr.FromString("10%"), 10, 1, 0},
		{intstr.FromInt32(0), intstr.FromInt32(0), 10, 0, 1}, // impossible: the default
		{intstr.FromInt32(2), intstr.FromInt32(0), 0, 0, 2},
	} {
		ds := mkDS(rolling(tc.mu, tc.ms))
		if s, u := budget(ds, tc.desired); s != tc.surge || u != tc.unav {
			t.Errorf("%s/%s of %d: surge %d unavailable %d, want %d %d", tc.mu.String(), tc.ms.String(), tc.desired, s, u, tc.surge, tc.unav)
		}
	}
	if _, u := budget(mkDS(onDelete), 10); u != 1 {
		t.Errorf("OnDelete budget %d", u)
	}
}

// With maxUnavailable 10% of 20 nodes, the update deletes two old pods,
// recreates them from the new template, waits for them to be ready, and
// goes on: never more than two nodes without an available daemon.
func TestRollingUpdateMaxUnavailablePercent(t *testing.T) {
	ds := mkDS(rolling(intstr.FromString("10%"), intstr.FromInt32(0)))
	s := newSim(t, ds, 20)
	image("agent:2")(ds)
	var deletes []int
	for i := 0; i < 100; i++ {
		p := s.step()
		if len(p.Delete) > 0 {
			deletes = append(deletes, len(p.Delete))
		}
		if len(p.Create) > 0 && len(p.Delete) > 0 {
			t.Fatalf("step %d both creates and deletes", i)
		}
		if un, _, _ := s.counts(); un > 2 {
			t.Fatalf("step %d: %d nodes unavailable, budget 2", i, un)
		}
		if p.Status.UpdatedNumberScheduled == 20 && p.Status.NumberAvailable == 20 {
			if len(deletes) != 10 {
				t.Fatalf("deletions per step %v, want 10 steps of 2", deletes)
			}
			for _, n := range deletes {
				if n != 2 {
					t.Fatalf("deletions per step %v, want 2 each", deletes)
				}
			}
			return
		}
		if len(p.Create) == 0 {
			s.ready() // the new pods start between plans
		}
	}
	t.Fatal("rollout did not finish")
}

func TestRollingUpdateSteps(t *testing.T) {
	ds := mkDS() // maxUnavailable 1
	s := newSim(t, ds, 3)
	image("agent:2")(ds)
	p := s.step()
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-old00"}) || len(p.Create) != 0 {
		t.Fatalf("step 1: delete %v create %v", got, targets(p.Create))
	}
	if p.Status.UpdatedNumberScheduled != 0 || p.Status.ObservedGeneration != 2 {
		t.Fatalf("step 1 status %+v", p.Status)
	}
	p = s.step()
	if got := targets(p.Create); !slices.Equal(got, []string{"n00"}) || len(p.Delete) != 0 {
		t.Fatalf("step 2: create %v delete %v", got, names(p.Delete))
	}
	p = s.step() // the new pod is not ready: nothing more
	if len(p.Create)+len(p.Delete) != 0 || p.Status.UpdatedNumberScheduled != 1 || p.Status.NumberUnavailable != 1 {
		t.Fatalf("step 3: create %v delete %v status %+v", targets(p.Create), names(p.Delete), p.Status)
	}
	s.ready()
	p = s.step()
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-old01"}) {
		t.Fatalf("step 4: delete %v", got)
	}
	// An old pod that is unavailable anyway is replaced beyond the budget.
	for _, q := range s.pods {
		if q.Name == "agent-old02" {
			q.Status.Conditions = nil
		}
	}
	p = s.step() // creates n01's pod first
	if got := targets(p.Create); !slices.Equal(got, []string{"n01"}) {
		t.Fatalf("step 5: create %v", got)
	}
	p = s.step()
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-old02"}) {
		t.Fatalf("step 6: delete %v (the unavailable old pod)", got)
	}
}

// With maxSurge 1 and maxUnavailable 0 a new pod starts beside an old one;
// the old one goes when the new one is available, and the next node
// surges in the same plan.
func TestRollingUpdateSurge(t *testing.T) {
	ds := mkDS(rolling(intstr.FromInt32(0), intstr.FromInt32(1)))
	s := newSim(t, ds, 3)
	image("agent:2")(ds)
	p := s.step()
	if got := targets(p.Create); !slices.Equal(got, []string{"n00"}) || len(p.Delete) != 0 {
		t.Fatalf("step 1: create %v delete %v", got, names(p.Delete))
	}
	p = s.step()
	if len(p.Create)+len(p.Delete) != 0 {
		t.Fatalf("step 2 (new pod not ready): create %v delete %v", targets(p.Create), names(p.Delete))
	}
	if p.Status.NumberAvailable != 3 {
		t.Fatalf("surge lost availability: %+v", p.Status)
	}
	for i := 0; i < 20; i++ {
		s.ready()
		p = s.step()
		if un, _, total := s.counts(); un != 0 || total > 4 {
			t.Fatalf("step %d: %d unavailable, %d pods", i, un, total)
		}
		if p.Status.UpdatedNumberScheduled == 3 && len(s.pods) == 3 {
			return
		}
	}
	t.Fatalf("surge rollout did not finish: %v", names(s.pods))
}

func TestOnDelete(t *testing.T) {
	ds := mkDS(onDelete)
	s := newSim(t, ds, 2)
	image("agent:2")(ds)
	p := s.step()
	if len(p.Create)+len(p.Delete) != 0 || p.Status.UpdatedNumberScheduled != 0 || p.Status.NumberAvailable != 2 {
		t.Fatalf("OnDelete acted: create %v delete %v status %+v", targets(p.Create), names(p.Delete), p.Status)
	}
	s.pods = s.pods[1:] // the user deletes n00's pod
	p = s.step()
	if got := targets(p.Create); !slices.Equal(got, []string{"n00"}) {
		t.Fatalf("create %v", got)
	}
	if p.Create[0].Spec.Containers[0].Image != "agent:2" {
		t.Fatalf("recreated from the old template")
	}
	s.ready()
	if p = s.step(); p.Status.UpdatedNumberScheduled != 1 {
		t.Fatalf("status %+v", p.Status)
	}
}

// With surge, a node may hold one old and one new pod; duplicates of
// either kind are pruned, keeping the oldest.
func TestSurgeDuplicates(t *testing.T) {
	old := mkDS(rolling(intstr.FromInt32(0), intstr.FromInt32(1)))
	ds := old.DeepCopy()
	image("agent:2")(ds)
	pods := []*corev1.Pod{
		podOn(old, "agent-o1", "n1", t0), podOn(old, "agent-o2", "n1", t0.Add(time.Second)),
		podOn(ds, "agent-n1", "n1", t0.Add(2*time.Second)), podOn(ds, "agent-n2", "n1", t0.Add(3*time.Second)),
	}
	p := plan(Input{DaemonSet: ds, Nodes: nodes("n1"), Pods: pods})
	if got := names(p.Delete); !slices.Equal(got, []string{"agent-n2", "agent-o2"}) {
		t.Fatalf("delete %v", got)
	}
}
