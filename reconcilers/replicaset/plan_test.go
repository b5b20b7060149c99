package replicaset

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

var now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func newRS(replicas int32) *appsv1.ReplicaSet {
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", UID: "rs-uid", Generation: 3},
		Spec: appsv1.ReplicaSetSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "tier": "front"}, Annotations: map[string]string{"a": "b"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
			},
		},
	}
}

type podOpt func(*corev1.Pod)

func pod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID("uid-" + name),
		Labels: map[string]string{"app": "web", "tier": "front"}}}
	for _, o := range opts {
		o(p)
	}
	return p
}

func owned(rsUID string) podOpt {
	return func(p *corev1.Pod) {
		t := true
		p.OwnerReferences = append(p.OwnerReferences, metav1.OwnerReference{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "x", UID: types.UID(rsUID), Controller: &t})
	}
}

func lbl(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		p.Labels = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			p.Labels[kv[i]] = kv[i+1]
		}
	}
}

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

func readySince(t time.Time) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodRunning
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t)}}
	}
}

func terminating(p *corev1.Pod) { ts := metav1.NewTime(now); p.DeletionTimestamp = &ts }

func names(pods []*corev1.Pod) string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func planner() Planner { return Planner{Rand: rand.New(rand.NewPCG(1, 2))} }

func TestCreatesPodsFromTemplate(t *testing.T) {
	rs := newRS(3)
	existing := pod("web-aaaaa", owned("rs-uid"))
	plan, err := planner().Plan(rs, []*corev1.Pod{existing}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Create) != 2 || len(plan.Delete) != 0 {
		t.Fatalf("create %d delete %d, want 2 and 0", len(plan.Create), len(plan.Delete))
	}
	nameRE := regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]{5}$`)
	seen := map[string]bool{}
	for _, p := range plan.Create {
		if !nameRE.MatchString(p.Name) || seen[p.Name] {
			t.Fatalf("bad or duplicate name %q", p.Name)
		}
		seen[p.Name] = true
		if p.Namespace != "ns" || p.Labels["app"] != "web" || p.Labels["tier"] != "front" || p.Annotations["a"] != "b" {
			t.Fatalf("pod metadata not from template: %+v", p.ObjectMeta)
		}
		if len(p.Spec.Containers) != 1 || p.Spec.Containers[0].Image != "busybox" {
			t.Fatalf("pod spec not from template: %+v", p.Spec)
		}
		ref := metav1.GetControllerOf(p)
		if ref == nil || ref.UID != "rs-uid" || ref.Kind != "ReplicaSet" || ref.APIVersion != "apps/v1" || ref.Name != "web" ||
			ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
			t.Fatalf("bad controller ref %+v", ref)
		}
	}
	// The template is copied, not shared.
	plan.Create[0].Labels["app"] = "changed"
	if rs.Spec.Template.Labels["app"] != "web" {
		t.Fatalf("created pod shares the template's label map")
	}
	// Same seed, same names.
	again, _ := planner().Plan(rs, []*corev1.Pod{existing}, now)
	if names(again.Create) != names(plan.Create) {
		t.Fatalf("not deterministic with the same seed: %s vs %s", names(again.Create), names(plan.Create))
	}
}

// fixedRand returns a scripted sequence of indexes.
type fixedRand struct{ seq []int }

func (f *fixedRand) IntN(n int) int { v := f.seq[0] % n; f.seq = f.seq[1:]; return v }

func TestNameCollisionIsAvoided(t *testing.T) {
	// First name drawn is web-bbbbb (index 0), which is taken; the next is web-ccccc.
	r := &fixedRand{seq: []int{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}}
	plan, err := Planner{Rand: r}.Plan(newRS(1), []*corev1.Pod{pod("web-bbbbb", lbl("other", "x"))}, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Create) != 1 || plan.Create[0].Name != "web-ccccc" {
		t.Fatalf("created %s, want web-ccccc", names(plan.Create))
	}
}

func TestBurstLimit(t *testing.T) {
	p := planner()
	p.BurstReplicas = 10
	plan, err := p.Plan(newRS(25), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Create) != 10 {
		t.Fatalf("created %d, want burst of 10", len(plan.Create))
	}
}

func TestClaiming(t *testing.T) {
	tests := []struct {
		name                   string
		pods                   []*corev1.Pod
		wantAdopt, wantRelease string
		wantReplicas           int32
		wantCreate             int
	}{
		{"orphan matching is adopted", []*corev1.Pod{pod("o")}, "o", "", 1, 1},
		{"orphan not matching is ignored", []*corev1.Pod{pod("o", lbl("app", "db"))}, "", "", 0, 2},
		{"orphan terminating is not adopted", []*corev1.Pod{pod("o", terminating)}, "", "", 0, 2},
		{"orphan finished is not adopted", []*corev1.Pod{pod("o", phase(corev1.PodSucceeded))}, "", "", 0, 2},
		{"pod of another controller is left alone", []*corev1.Pod{pod("o", owned("other"))}, "", "", 0, 2},
		{"owned pod no longer matching is released", []*corev1.Pod{pod("m", owned("rs-uid"), lbl("app", "debug"))}, "", "m", 0, 2},
		{"pod in another namespace is ignored", []*corev1.Pod{pod("x", func(p *corev1.Pod) { p.Namespace = "other" })}, "", "", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := make([]*corev1.Pod, len(tt.pods))
			for i, p := range tt.pods {
				before[i] = p.DeepCopy()
			}
			plan, err := planner().Plan(newRS(2), tt.pods, now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(before, tt.pods) {
				t.Fatalf("Plan modified its input pods")
			}
			if names(plan.Adopt) != tt.wantAdopt || names(plan.Release) != tt.wantRelease {
				t.Fatalf("adopt %q release %q, want %q %q", names(plan.Adopt), names(plan.Release), tt.wantAdopt, tt.wantRelease)
			}
			if plan.Status.Replicas != tt.wantReplicas || len(plan.Create) != tt.wantCreate {
				t.Fatalf("replicas %d create %d, want %d %d", plan.Status.Replicas, len(plan.Create), tt.wantReplicas, tt.wantCreate)
			}
			for _, p := range plan.Adopt {
				if ref := metav1.GetControllerOf(p); ref == nil || ref.UID != "rs-uid" {
					t.Fatalf("adopted pod lacks controller ref: %+v", p.OwnerReferences)
				}
			}
			for _, p := range plan.Release {
				if metav1.GetControllerOf(p) != nil {
					t.Fatalf("released pod keeps controller ref")
				}
			}
		})
	}
}

func TestTerminatingPodsDoNotCount(t *testing.T) {
	pods := []*corev1.Pod{pod("a", owned("rs-uid")), pod("b", owned("rs-uid"), terminating)}
	plan, err := planner().Plan(newRS(2), pods, now)
	if err != nil {
		t.Fatal(err)
	}
	if plan.Status.Replicas != 1 || len(plan.Create) != 1 {
		t.Fatalf("replicas %d create %d, want 1 and 1", plan.Status.Replicas, len(plan.Create))
	}
}

func TestDeletingReplicaSetDoesNothing(t *testing.T) {
	rs := newRS(0)
	ts := metav1.NewTime(now)
	rs.DeletionTimestamp = &ts
	pods := []*corev1.Pod{pod("a", owned("rs-uid")), pod("o"), pod("m", owned("rs-uid"), lbl("x", "y"))}
	plan, err := planner().Plan(rs, pods, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Create)+len(plan.Delete)+len(plan.Adopt)+len(plan.Release) != 0 {
		t.Fatalf("actions for a deleting ReplicaSet: %+v", plan)
	}
	if plan.Status.Replicas != 1 {
		t.Fatalf("replicas %d, want 1", plan.Status.Replicas)
	}
}

func TestInvalidSelector(t *testing.T) {
	rs := newRS(1)
	rs.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Bogus"}}}
	if _, err := planner().Plan(rs, nil, now); err == nil {
		t.Fatalf("invalid selector accepted")
	}
	rs.Spec.Selector = &metav1.LabelSelector{}
	if _, err := planner().Plan(rs, nil, now); err == nil {
		t.Fatalf("empty selector accepted")
	}
}

func TestStatus(t *testing.T) {
	rs := newRS(5)
	rs.Spec.MinReadySeconds = 30
	pods := []*corev1.Pod{
		pod("available", owned("rs-uid"), readySince(now.Add(-time.Minute))),
		pod("just-ready", owned("rs-uid"), readySince(now.Add(-10*time.Second))),
		pod("exactly", owned("rs-uid"), readySince(now.Add(-30*time.Second))),
		pod("pending", owned("rs-uid"), phase(corev1.PodPending)),
		pod("partial", owned("rs-uid"), lbl("app", "web"), readySince(now.Add(-time.Hour))),
		pod("gone", owned("rs-uid"), readySince(now.Add(-time.Hour)), terminating),
	}
	plan, err := planner().Plan(rs, pods, now)
	if err != nil {
		t.Fatal(err)
	}
	s := plan.Status
	if s.Replicas != 5 || s.FullyLabeledReplicas != 4 || s.ReadyReplicas != 4 || s.AvailableReplicas != 3 || s.ObservedGeneration != 3 {
		t.Fatalf("status %+v, want replicas 5 fullyLabeled 4 ready 4 available 3 observedGeneration 3", s)
	}
	if plan.RequeueAfter != 20*time.Second {
		t.Fatalf("RequeueAfter %v, want 20s (just-ready becomes available)", plan.RequeueAfter)
	}
	if len(plan.Create) != 0 || len(plan.Delete) != 0 {
		t.Fatalf("unexpected actions: create %d delete %d", len(plan.Create), len(plan.Delete))
	}
	if !PodAvailable(pods[2], 30, now) || PodAvailable(pods[1], 30, now) || !PodAvailable(pods[1], 0, now) {
		t.Fatalf("PodAvailable wrong around minReadySeconds")
	}
}

func TestScaleDownPicksLeastValuable(t *testing.T) {
	old := now.Add(-time.Hour)
	mk := func(name string, opts ...podOpt) *corev1.Pod {
		return pod(name, append([]podOpt{owned("rs-uid"), func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(old) }}, opts...)...)
	}
	node := func(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }
	created := func(t time.Time) podOpt { return func(p *corev1.Pod) { p.CreationTimestamp = metav1.NewTime(t) } }
	restarts := func(n int32) podOpt {
		return func(p *corev1.Pod) { p.Status.ContainerStatuses = []corev1.ContainerStatus{{RestartCount: n}} }
	}
	cost := func(c string) podOpt {
		return func(p *corev1.Pod) { p.Annotations = map[string]string{PodDeletionCostAnnotation: c} }
	}
	tests := []struct {
		name        string
		first, then *corev1.Pod // first must be deleted before then
	}{
		{"unscheduled before scheduled", mk("a"), mk("b", node("n1"), readySince(old))},
		{"pending before running", mk("a", node("n1"), phase(corev1.PodPending)), mk("b", node("n2"), phase(corev1.PodRunning))},
		{"unknown before running", mk("a", node("n1"), phase(corev1.PodUnknown)), mk("b", node("n2"), phase(corev1.PodRunning))},
		{"not ready before ready", mk("a", node("n1"), phase(corev1.PodRunning)), mk("b", node("n2"), readySince(old))},
		{"lower deletion cost first", mk("a", node("n1"), readySince(old), cost("-5")), mk("b", node("n2"), readySince(old))},
		{"ready for less time first", mk("a", node("n1"), readySince(now.Add(-time.Minute))), mk("b", node("n2"), readySince(old))},
		{"more restarts first", mk("a", node("n1"), readySince(old), restarts(3)), mk("b", node("n2"), readySince(old), restarts(1))},
		{"newer first", mk("a", node("n1"), readySince(old), created(now)), mk("b", node("n2"), readySince(old))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, order := range [][]*corev1.Pod{{tt.first, tt.then}, {tt.then, tt.first}} {
				plan, err := planner().Plan(newRS(1), order, now)
				if err != nil {
					t.Fatal(err)
				}
				if len(plan.Delete) != 1 || plan.Delete[0].Name != tt.first.Name {
					t.Fatalf("deleted %s, want %s", names(plan.Delete), tt.first.Name)
				}
			}
		})
	}
	// Doubled-up pods go first among otherwise equal pods.
	pods := []*corev1.Pod{mk("solo", node("n1"), readySince(old)), mk("pair1", node("n2"), readySince(old)), mk("pair2", node("n2"), readySince(old))}
	if got := names(PodsToDelete(pods, 1)); got != "pair1" {
		t.Fatalf("deleted %s, want pair1 (doubled up, then by name)", got)
	}
	if got := names(PodsToDelete(pods, 5)); got != "pair1,pair2,solo" {
		t.Fatalf("PodsToDelete beyond len = %s", got)
	}
}

func TestScaleDownMany(t *testing.T) {
	var pods []*corev1.Pod
	for i := 0; i < 10; i++ {
		pods = append(pods, pod(fmt.Sprintf("p%d", i), owned("rs-uid")))
	}
	plan, err := planner().Plan(newRS(4), pods, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Delete) != 6 || plan.Status.Replicas != 10 {
		t.Fatalf("delete %d replicas %d, want 6 and 10 (status is what exists now)", len(plan.Delete), plan.Status.Replicas)
	}
}
