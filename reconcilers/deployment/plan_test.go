package deployment

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func plan(t *testing.T, in Input) Actions {
	t.Helper()
	a, err := Plan(in)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	return a
}

// rsFor builds an owned ReplicaSet for d's template with an image,
// revision, replicas and available pods.
func rsFor(d *appsv1.Deployment, image string, revision string, replicas, available int32, created time.Time) *appsv1.ReplicaSet {
	tmpl := d.Spec.Template.DeepCopy()
	tmpl.Spec.Containers[0].Image = image
	hash := ComputeHash(tmpl, nil)
	tmpl.Labels = withLabel(tmpl.Labels, PodTemplateHashLabel, hash)
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Namespace: d.Namespace, Name: d.Name + "-" + hash, UID: types.UID("uid-" + image),
			CreationTimestamp: metav1.NewTime(created), Generation: 1,
			Annotations: map[string]string{RevisionAnnotation: revision,
				DesiredReplicasAnnotation: fmt.Sprint(*d.Spec.Replicas),
				MaxReplicasAnnotation:     fmt.Sprint(*d.Spec.Replicas + maxSurge(withDefaults(d)))}},
		Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Template: *tmpl,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", PodTemplateHashLabel: hash}}},
		Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: available, AvailableReplicas: available, ObservedGeneration: 1},
	}
	return rs
}

func TestCreatesFirstReplicaSet(t *testing.T) {
	d := newDeployment(10, intstr.FromString("25%"), intstr.FromString("25%"))
	d.Annotations = map[string]string{"team": "blue", lastAppliedAnnotation: "{}"}
	d.Spec.MinReadySeconds = 5
	a := plan(t, Input{Deployment: d, Now: t0})
	rs := a.Create
	if rs == nil {
		t.Fatalf("no ReplicaSet created")
	}
	hash := ComputeHash(&d.Spec.Template, nil)
	if rs.Name != "web-"+hash || !regexp.MustCompile(`^web-[bcdfghjklmnpqrstvwxz2456789]+$`).MatchString(rs.Name) {
		t.Fatalf("name %q, want web-%s", rs.Name, hash)
	}
	if specReplicas(rs) != 10 || rs.Spec.MinReadySeconds != 5 {
		t.Fatalf("replicas %d minReadySeconds %d, want 10 and 5", specReplicas(rs), rs.Spec.MinReadySeconds)
	}
	if rs.Spec.Template.Labels[PodTemplateHashLabel] != hash || rs.Spec.Selector.MatchLabels[PodTemplateHashLabel] != hash || rs.Labels[PodTemplateHashLabel] != hash {
		t.Fatalf("pod-template-hash not on template, selector and labels: %+v", rs)
	}
	if d.Spec.Template.Labels[PodTemplateHashLabel] != "" || d.Spec.Selector.MatchLabels[PodTemplateHashLabel] != "" {
		t.Fatalf("Plan modified the Deployment")
	}
	want := map[string]string{RevisionAnnotation: "1", DesiredReplicasAnnotation: "10", MaxReplicasAnnotation: "13", "team": "blue"}
	for k, v := range want {
		if rs.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, rs.Annotations[k], v)
		}
	}
	if _, ok := rs.Annotations[lastAppliedAnnotation]; ok {
		t.Errorf("last-applied-configuration copied to the ReplicaSet")
	}
	ref := metav1.GetControllerOf(rs)
	if ref == nil || ref.UID != "d-uid" || ref.Kind != "Deployment" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Fatalf("bad controller ref %+v", ref)
	}
	if a.Annotations[RevisionAnnotation] != "1" {
		t.Fatalf("deployment revision annotation %q, want 1", a.Annotations[RevisionAnnotation])
	}
	c := getCondition(&a.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Reason != ReasonNewRSCreated || c.Status != corev1.ConditionTrue || !strings.Contains(c.Message, rs.Name) {
		t.Fatalf("Progressing condition %+v", c)
	}
	if av := getCondition(&a.Status, appsv1.DeploymentAvailable); av == nil || av.Status != corev1.ConditionFalse || av.Reason != ReasonMinimumUnavailable {
		t.Fatalf("Available condition %+v", av)
	}
	if a.Status.UnavailableReplicas != 10 || a.Status.ObservedGeneration != 1 {
		t.Fatalf("status %+v", a.Status)
	}
	if a.RequeueAfter != 600*time.Second {
		t.Fatalf("RequeueAfter %v, want the 600s progress deadline", a.RequeueAfter)
	}
}

func TestComputeHash(t *testing.T) {
	d := newDeployment(1, intstr.FromInt32(1), intstr.FromInt32(0))
	h1 := ComputeHash(&d.Spec.Template, nil)
	if h1 != ComputeHash(d.Spec.Template.DeepCopy(), nil) {
		t.Fatalf("hash not stable")
	}
	one := int32(1)
	if h1 == ComputeHash(&d.Spec.Template, &one) {
		t.Fatalf("collision count does not change the hash")
	}
	other := d.Spec.Template.DeepCopy()
	other.Spec.Containers[0].Image = "web:v2"
	if h1 == ComputeHash(other, nil) {
		t.Fatalf("template change does not change the hash")
	}
	if !EqualIgnoreHash(&d.Spec.Template, &rsFor(d, "web:v1", "1", 1, 1, t0).Spec.Template) {
		t.Fatalf("EqualIgnoreHash does not ignore the hash label")
	}
	if EqualIgnoreHash(&d.Spec.Template, other) {
		t.Fatalf("EqualIgnoreHash ignores the image")
	}
}

func TestHashCollisionRaisesCollisionCount(t *testing.T) {
	d := newDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
	// An owned set already has the name the template hashes to, but a
	// different template.
	squatter := rsFor(d, "other", "1", 0, 0, t0)
	squatter.Name = "web-" + ComputeHash(&d.Spec.Template, nil)
	a := plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{squatter}, Now: t0})
	one := int32(1)
	if a.Status.CollisionCount == nil || *a.Status.CollisionCount != 1 {
		t.Fatalf("collisionCount %v, want 1", a.Status.CollisionCount)
	}
	if a.Create == nil || a.Create.Name != "web-"+ComputeHash(&d.Spec.Template, &one) {
		t.Fatalf("created %v, want the name with collision count 1", a.Create)
	}
}

func TestRollingStepScalesNewUpWithinSurge(t *testing.T) {
	d := newDeployment(10, intstr.FromInt32(3), intstr.FromInt32(2))
	d.Spec.Template.Spec.Containers[0].Image = "web:v2"
	old := rsFor(d, "web:v1", "1", 10, 10, t0)
	a := plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old}, Now: t0})
	if a.Create == nil || specReplicas(a.Create) != 3 {
		t.Fatalf("new set %v, want created with 3 replicas (surge)", a.Create)
	}
	if a.Create.Annotations[RevisionAnnotation] != "2" {
		t.Fatalf("new revision %q, want 2", a.Create.Annotations[RevisionAnnotation])
	}
	// The same step scales the old set down by maxUnavailable (2): the
	// new pods are not available yet.
	if len(a.Update) != 1 || a.Update[0].Name != old.Name || specReplicas(a.Update[0]) != 8 {
		t.Fatalf("updates %v, want old scaled to 8", a.Update)
	}
	// Next step: 3 new (unavailable) + 8 old = 11 < 13: the new set grows
	// by 2 and the old one is left alone.
	newRS := a.Create.DeepCopy()
	newRS.UID = "new"
	newRS.Status = appsv1.ReplicaSetStatus{Replicas: 3}
	old = a.Update[0]
	old.Status = appsv1.ReplicaSetStatus{Replicas: 8, ReadyReplicas: 8, AvailableReplicas: 8}
	d.Status = a.Status
	d.Annotations = a.Annotations
	a = plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old, newRS}, Now: t0.Add(time.Second)})
	if len(a.Update) != 1 || a.Update[0].Name != newRS.Name || specReplicas(a.Update[0]) != 5 {
		t.Fatalf("updates %v, want new scaled to 5", a.Update)
	}
}

func TestCleanupUnhealthyOldReplicasFirst(t *testing.T) {
	d := newDeployment(10, intstr.FromInt32(0), intstr.FromInt32(3))
	d.Spec.Template.Spec.Containers[0].Image = "web:v3"
	older := rsFor(d, "web:v1", "1", 2, 0, t0) // stuck: no pod available
	old := rsFor(d, "web:v2", "2", 8, 8, t0.Add(time.Minute))
	newRS := rsFor(d, "web:v3", "3", 0, 0, t0.Add(2*time.Minute))
	a := plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{older, old, newRS}, Now: t0.Add(time.Hour)})
	got := map[string]int32{}
	for _, u := range a.Update {
		got[u.Name] = specReplicas(u)
	}
	// Budget: 10 pods − 7 minimum available = 3; the 2 unavailable pods
	// go first, then 1 available one.
	if got[older.Name] != 0 || got[old.Name] != 7 || len(got) != 2 {
		t.Fatalf("updates %v, want %s→0 and %s→7", got, older.Name, old.Name)
	}
}

func TestRecreate(t *testing.T) {
	d := newDeployment(4, intstr.FromInt32(0), intstr.FromInt32(0))
	d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	d.Spec.Template.Spec.Containers[0].Image = "web:v2"
	old := rsFor(d, "web:v1", "1", 4, 4, t0)

	a := plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old}, Now: t0})
	if a.Create != nil || len(a.Update) != 1 || specReplicas(a.Update[0]) != 0 {
		t.Fatalf("step 1: create %v updates %v, want old scaled to 0 only", a.Create, a.Update)
	}
	// Old set at 0 but a pod is still terminating: wait.
	old = a.Update[0]
	old.Status = appsv1.ReplicaSetStatus{}
	a = plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old}, PodsRunning: map[types.UID]int32{old.UID: 1}, Now: t0})
	if a.Create != nil || len(a.Update) != 0 {
		t.Fatalf("step 2: acted while old pods run: create %v updates %d", a.Create, len(a.Update))
	}
	// Old pods gone: create the new set at full size.
	a = plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old}, PodsRunning: map[types.UID]int32{}, Now: t0})
	if a.Create == nil || specReplicas(a.Create) != 4 {
		t.Fatalf("step 3: create %v, want new set with 4 replicas", a.Create)
	}
}

func TestPausedScalesButDoesNotRollOut(t *testing.T) {
	d := newDeployment(6, intstr.FromInt32(1), intstr.FromInt32(0))
	d.Spec.Paused = true
	d.Spec.Template.Spec.Containers[0].Image = "web:v2" // template change while paused
	old := rsFor(d, "web:v1", "1", 4, 4, t0)
	a := plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old}, Now: t0})
	if a.Create != nil {
		t.Fatalf("paused deployment created a new ReplicaSet")
	}
	if len(a.Update) != 1 || specReplicas(a.Update[0]) != 6 || a.Update[0].Annotations[DesiredReplicasAnnotation] != "6" {
		t.Fatalf("updates %v, want the active set scaled to 6", a.Update)
	}
	c := getCondition(&a.Status, appsv1.DeploymentProgressing)
	if c == nil || c.Status != corev1.ConditionUnknown || c.Reason != ReasonPaused {
		t.Fatalf("Progressing %+v, want Unknown/DeploymentPaused", c)
	}
	if a.RequeueAfter != 0 {
		t.Fatalf("paused deployment asks for a deadline check")
	}
	// Resuming records DeploymentResumed and rolls out.
	d.Spec.Paused = false
	d.Status = a.Status
	old = a.Update[0]
	a = plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old}, Now: t0})
	if a.Create == nil {
		t.Fatalf("resumed deployment did not roll out")
	}
}

func TestProportionalScalingDuringRollout(t *testing.T) {
	d := newDeployment(15, intstr.FromInt32(3), intstr.FromInt32(2))
	d.Spec.Template.Spec.Containers[0].Image = "web:v2"
	d.Status.Replicas = 13
	old := rsFor(d, "web:v1", "1", 8, 8, t0)
	newRS := rsFor(d, "web:v2", "2", 5, 0, t0.Add(time.Minute))
	// Both sized for 10 replicas (+3 surge = 13); now 15 (+3 = 18).
	for _, rs := range []*appsv1.ReplicaSet{old, newRS} {
		rs.Annotations[DesiredReplicasAnnotation] = "10"
		rs.Annotations[MaxReplicasAnnotation] = "13"
	}
	a := plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old, newRS}, Now: t0.Add(time.Hour)})
	got := map[string]int32{}
	for _, u := range a.Update {
		got[u.Name] = specReplicas(u)
		if u.Annotations[DesiredReplicasAnnotation] != "15" || u.Annotations[MaxReplicasAnnotation] != "18" {
			t.Errorf("%s annotations %v, want desired 15 max 18", u.Name, u.Annotations)
		}
	}
	// 8*18/13 = 11.08 → 11, 5*18/13 = 6.9 → 7: 18 in all.
	if got[old.Name] != 11 || got[newRS.Name] != 7 {
		t.Fatalf("sizes %v, want old 11 and new 7", got)
	}
}

func TestRevisionHistoryCleanup(t *testing.T) {
	d := newDeployment(2, intstr.FromInt32(1), intstr.FromInt32(0))
	limit := int32(2)
	d.Spec.RevisionHistoryLimit = &limit
	d.Spec.Template.Spec.Containers[0].Image = "web:v5"
	var rss []*appsv1.ReplicaSet
	for i, img := range []string{"web:v1", "web:v2", "web:v3", "web:v4"} {
		rss = append(rss, rsFor(d, img, string(rune('1'+i)), 0, 0, t0.Add(time.Duration(i)*time.Minute)))
	}
	rss[0].Status.ObservedGeneration = 0 // not yet observed: must be kept
	cur := rsFor(d, "web:v5", "5", 2, 2, t0.Add(time.Hour))
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2, ReadyReplicas: 2}
	cur.Annotations[DesiredReplicasAnnotation] = "2"
	cur.Annotations[MaxReplicasAnnotation] = "3"
	a := plan(t, Input{Deployment: d, ReplicaSets: append(rss, cur), Now: t0.Add(2 * time.Hour)})
	var deleted []string
	for _, rs := range a.Delete {
		deleted = append(deleted, rs.Annotations[RevisionAnnotation])
	}
	if strings.Join(deleted, ",") != "2" {
		t.Fatalf("deleted revisions %v, want [2] (1 is unobserved, 3 and 4 are kept)", deleted)
	}
}

func TestProgressDeadline(t *testing.T) {
	d := newDeployment(2, intstr.FromInt32(1), intstr.FromInt32(0))
	deadline := int32(60)
	d.Spec.ProgressDeadlineSeconds = &deadline
	newRS := rsFor(d, "web:v1", "1", 2, 1, t0)
	newRS.Annotations[DesiredReplicasAnnotation] = "2"
	newRS.Annotations[MaxReplicasAnnotation] = "3"
	d.Annotations = map[string]string{RevisionAnnotation: "1"}
	since := metav1.NewTime(t0)
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: ReasonRSUpdated, LastUpdateTime: since, LastTransitionTime: since}}}
	in := Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{newRS}}

	in.Now = t0.Add(30 * time.Second)
	a := plan(t, in)
	if c := getCondition(&a.Status, appsv1.DeploymentProgressing); c.Reason != ReasonRSUpdated {
		t.Fatalf("before the deadline: %+v", c)
	}
	if a.RequeueAfter != 30*time.Second {
		t.Fatalf("RequeueAfter %v, want 30s", a.RequeueAfter)
	}
	in.Now = t0.Add(61 * time.Second)
	a = plan(t, in)
	c := getCondition(&a.Status, appsv1.DeploymentProgressing)
	if c.Status != corev1.ConditionFalse || c.Reason != ReasonTimedOut || !strings.Contains(c.Message, "timed out") {
		t.Fatalf("after the deadline: %+v", c)
	}
	if a.RequeueAfter != 0 {
		t.Fatalf("timed out deployment requeues after %v", a.RequeueAfter)
	}
	// Progress (one more available pod) refreshes the condition instead.
	newRS.Status.AvailableReplicas, newRS.Status.ReadyReplicas = 2, 2
	a = plan(t, in)
	c = getCondition(&a.Status, appsv1.DeploymentProgressing)
	if c.Status != corev1.ConditionTrue || c.Reason != ReasonNewRSAvailable {
		t.Fatalf("after completing: %+v", c)
	}
	if av := getCondition(&a.Status, appsv1.DeploymentAvailable); av.Status != corev1.ConditionTrue {
		t.Fatalf("Available %+v", av)
	}
}

func TestRollbackToRevision(t *testing.T) {
	d := newDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
	v1 := rsFor(d, "web:v1", "1", 0, 0, t0)
	v2 := rsFor(d, "web:v2", "2", 0, 0, t0.Add(time.Minute))
	v3 := rsFor(d, "web:v3", "3", 3, 3, t0.Add(2*time.Minute))
	rss := []*appsv1.ReplicaSet{v1, v2, v3}

	tmpl, err := TemplateForRevision(rss, 0)
	if err != nil || tmpl.Spec.Containers[0].Image != "web:v2" {
		t.Fatalf("undo: %v %v, want web:v2", tmpl, err)
	}
	if _, ok := tmpl.Labels[PodTemplateHashLabel]; ok {
		t.Fatalf("restored template keeps pod-template-hash")
	}
	tmpl, err = TemplateForRevision(rss, 1)
	if err != nil || tmpl.Spec.Containers[0].Image != "web:v1" {
		t.Fatalf("to-revision 1: %v %v", tmpl, err)
	}
	if _, err := TemplateForRevision(rss, 7); err == nil {
		t.Fatalf("missing revision accepted")
	}
	if _, err := TemplateForRevision(rss[2:], 0); err == nil {
		t.Fatalf("undo without history accepted")
	}
	// Applying it makes v1's set the new one, with the next revision.
	d.Spec.Template = *tmpl
	a := plan(t, Input{Deployment: d, ReplicaSets: rss, Now: t0.Add(time.Hour)})
	if a.Create != nil {
		t.Fatalf("rollback created a set instead of reusing revision 1's")
	}
	var reused *appsv1.ReplicaSet
	for _, u := range a.Update {
		if u.Name == v1.Name {
			reused = u
		}
	}
	if reused == nil || reused.Annotations[RevisionAnnotation] != "4" || reused.Annotations[RevisionHistoryAnnotation] != "1" || specReplicas(reused) != 1 {
		t.Fatalf("reused set %+v, want revision 4, history 1, scaled to 1 (surge)", reused)
	}
	if a.Annotations[RevisionAnnotation] != "4" {
		t.Fatalf("deployment revision %q, want 4", a.Annotations[RevisionAnnotation])
	}
}

func TestInvalidDeployments(t *testing.T) {
	bad := []func(*appsv1.Deployment){
		func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
		func(d *appsv1.Deployment) { d.Spec.Selector.MatchLabels = map[string]string{"app": "other"} },
		func(d *appsv1.Deployment) {
			v := intstr.FromString("ten%")
			d.Spec.Strategy.RollingUpdate.MaxSurge = &v
		},
	}
	for i, mutate := range bad {
		d := newDeployment(1, intstr.FromInt32(1), intstr.FromInt32(0))
		mutate(d)
		if _, err := Plan(Input{Deployment: d, Now: t0}); err == nil {
			t.Errorf("case %d: invalid deployment accepted", i)
		}
	}
}

func TestResolveFenceposts(t *testing.T) {
	tests := []struct {
		surge, unavail intstr.IntOrString
		replicas       int32
		wantS, wantU   int32
	}{
		{intstr.FromString("25%"), intstr.FromString("25%"), 10, 3, 2},
		{intstr.FromString("10%"), intstr.FromString("10%"), 5, 1, 0},
		{intstr.FromInt32(0), intstr.FromInt32(0), 5, 0, 1},
		{intstr.FromString("0%"), intstr.FromString("0%"), 3, 0, 1},
		{intstr.FromInt32(2), intstr.FromString("50%"), 5, 2, 2},
	}
	for _, tt := range tests {
		s, u, err := ResolveFenceposts(&tt.surge, &tt.unavail, tt.replicas)
		if err != nil || s != tt.wantS || u != tt.wantU {
			t.Errorf("ResolveFenceposts(%v, %v, %d) = %d, %d, %v; want %d, %d", tt.surge.String(), tt.unavail.String(), tt.replicas, s, u, err, tt.wantS, tt.wantU)
		}
	}
}

func TestDeletingDeploymentOnlyReportsStatus(t *testing.T) {
	d := newDeployment(3, intstr.FromInt32(1), intstr.FromInt32(0))
	ts := metav1.NewTime(t0)
	d.DeletionTimestamp = &ts
	d.Spec.Template.Spec.Containers[0].Image = "web:v2"
	old := rsFor(d, "web:v1", "1", 3, 3, t0)
	a := plan(t, Input{Deployment: d, ReplicaSets: []*appsv1.ReplicaSet{old}, Now: t0})
	if a.Create != nil || len(a.Update) != 0 || len(a.Delete) != 0 {
		t.Fatalf("actions for a deleting deployment: %+v", a)
	}
	if a.Status.Replicas != 3 || a.Status.AvailableReplicas != 3 || a.Status.UpdatedReplicas != 0 {
		t.Fatalf("status %+v", a.Status)
	}
}
