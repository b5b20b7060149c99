package statefulset

import (
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/reconcilers/history"
)

var t0 = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)

type setOpt func(*appsv1.StatefulSet)

func mkSet(n int32, opts ...setOpt) *appsv1.StatefulSet {
	zero := int32(0)
	ss := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "ss-uid", Generation: 1},
		Spec: appsv1.StatefulSetSpec{
			Replicas:            &n,
			ServiceName:         "nginx",
			Selector:            &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			PodManagementPolicy: appsv1.OrderedReadyPodManagement,
			UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateStatefulSetStrategy{Partition: &zero}},
			Template: tmpl("web:1"),
		},
	}
	for _, o := range opts {
		o(ss)
	}
	return ss
}

func tmpl(image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
	}
}

func parallel(ss *appsv1.StatefulSet) { ss.Spec.PodManagementPolicy = appsv1.ParallelPodManagement }
func onDelete(ss *appsv1.StatefulSet) {
	ss.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
}
func partitioned(p int32) setOpt {
	return func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.RollingUpdate.Partition = &p }
}

var (
	rev1 = Rev{Name: "web-r1", Template: ptr(tmpl("web:1"))}
	rev2 = Rev{Name: "web-r2", Template: ptr(tmpl("web:2"))}
)

func ptr[T any](v T) *T { return &v }

type podOpt func(*corev1.Pod)

// pod is the set's pod ordinal at rev, made by the planner and then given
// a state.
func pod(ss *appsv1.StatefulSet, o int, rev Rev, opts ...podOpt) *corev1.Pod {
	p := newPod(ss, rev.Template, o, rev.Name)
	p.UID = types.UID("pod-uid-" + p.Name)
	for _, opt := range opts {
		opt(p)
	}
	return p
}

func ready(p *corev1.Pod) {
	p.Status.Phase = corev1.PodRunning
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))}}
}
func pending(p *corev1.Pod) { p.Status.Phase = corev1.PodPending }
func failed(p *corev1.Pod)  { p.Status.Phase = corev1.PodFailed }
func deleting(p *corev1.Pod) {
	now := metav1.NewTime(t0)
	p.DeletionTimestamp = &now
}

func names(pods []*corev1.Pod) []string {
	out := []string{}
	for _, p := range pods {
		out = append(out, p.Name)
	}
	return out
}

func TestSync(t *testing.T) {
	three := mkSet(3)
	par := mkSet(3, parallel)
	one := mkSet(1)
	for _, tc := range []struct {
		name           string
		ss             *appsv1.StatefulSet
		pods           []*corev1.Pod
		cur, upd       Rev
		create, delete []string
	}{
		{name: "ordered: the first pod", ss: three, create: []string{"web-0"}},
		{name: "ordered: next once ready", ss: three, pods: []*corev1.Pod{pod(three, 0, rev1, ready)}, create: []string{"web-1"}},
		{name: "ordered: waits for a pending pod", ss: three, pods: []*corev1.Pod{pod(three, 0, rev1, ready), pod(three, 1, rev1, pending)}},
		{name: "ordered: a missing lower pod first", ss: three, pods: []*corev1.Pod{pod(three, 0, rev1, ready), pod(three, 2, rev1, ready)}, create: []string{"web-1"}},
		{name: "parallel: all at once", ss: par, create: []string{"web-0", "web-1", "web-2"}},
		{name: "failed pod deleted", ss: three, pods: []*corev1.Pod{pod(three, 0, rev1, ready), pod(three, 1, rev1, failed)}, delete: []string{"web-1"}},
		{name: "failed pod being deleted waits", ss: three, pods: []*corev1.Pod{pod(three, 0, rev1, ready), pod(three, 1, rev1, failed, deleting)}},
		{name: "failed pod gone comes back by name", ss: three, pods: []*corev1.Pod{pod(three, 0, rev1, ready), pod(three, 2, rev1, ready)}, create: []string{"web-1"}},
		{name: "parallel: failed pods deleted, missing made", ss: par, pods: []*corev1.Pod{pod(par, 0, rev1, failed), pod(par, 2, rev1, ready)}, create: []string{"web-1"}, delete: []string{"web-0"}},
		{name: "ordered: scale down from the highest", ss: one,
			pods: []*corev1.Pod{pod(one, 0, rev1, ready), pod(one, 1, rev1, ready), pod(one, 2, rev1, ready)}, delete: []string{"web-2"}},
		{name: "ordered: scale down waits for termination", ss: one,
			pods: []*corev1.Pod{pod(one, 0, rev1, ready), pod(one, 1, rev1, ready), pod(one, 2, rev1, ready, deleting)}},
		{name: "ordered: scale down waits for a lower unhealthy pod", ss: one,
			pods: []*corev1.Pod{pod(one, 0, rev1, pending), pod(one, 1, rev1, ready)}},
		{name: "ordered: an unhealthy condemned pod goes when it is the first unhealthy", ss: one,
			pods: []*corev1.Pod{pod(one, 0, rev1, ready), pod(one, 1, rev1, ready), pod(one, 2, rev1, pending)}, delete: []string{"web-2"}},
		{name: "parallel: scale down at once", ss: mkSet(1, parallel),
			pods: []*corev1.Pod{pod(one, 0, rev1, ready), pod(one, 1, rev1, ready), pod(one, 2, rev1, pending)}, delete: []string{"web-2", "web-1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cur, upd := tc.cur, tc.upd
			if upd.Name == "" {
				cur, upd = rev1, rev1
			}
			p := Sync(Input{Set: tc.ss, Pods: tc.pods, Current: cur, Update: upd, Now: t0})
			if got := names(p.Create); !reflect.DeepEqual(got, nonNil(tc.create)) {
				t.Errorf("create %v, want %v", got, tc.create)
			}
			if got := names(p.Delete); !reflect.DeepEqual(got, nonNil(tc.delete)) {
				t.Errorf("delete %v, want %v", got, tc.delete)
			}
		})
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func TestPodIdentity(t *testing.T) {
	ss := mkSet(3, func(ss *appsv1.StatefulSet) { ss.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 5} })
	p := Sync(Input{Set: ss, Current: rev1, Update: rev1, Now: t0})
	if len(p.Create) != 1 {
		t.Fatalf("create %v", names(p.Create))
	}
	pod := p.Create[0]
	if pod.Name != "web-5" || pod.Spec.Hostname != "web-5" || pod.Spec.Subdomain != "nginx" {
		t.Fatalf("identity %s %s %s", pod.Name, pod.Spec.Hostname, pod.Spec.Subdomain)
	}
	want := map[string]string{"app": "web", PodNameLabel: "web-5", PodIndexLabel: "5", history.HashLabel: "web-r1"}
	if !reflect.DeepEqual(pod.Labels, want) {
		t.Fatalf("labels %v", pod.Labels)
	}
	if ref := metav1.GetControllerOf(pod); ref == nil || ref.Kind != "StatefulSet" || ref.UID != "ss-uid" {
		t.Fatalf("owner %+v", ref)
	}
	// web-4 is out of range: condemned once the range is healthy.
	pods := []*corev1.Pod{pod2(ss, 4), pod2(ss, 5), pod2(ss, 6), pod2(ss, 7)}
	if p := Sync(Input{Set: ss, Pods: pods, Current: rev1, Update: rev1, Now: t0}); !reflect.DeepEqual(names(p.Delete), []string{"web-4"}) {
		t.Fatalf("delete %v", names(p.Delete))
	}
}

func pod2(ss *appsv1.StatefulSet, o int) *corev1.Pod { return pod(ss, o, rev1, ready) }

func TestRollingUpdate(t *testing.T) {
	all := func(ss *appsv1.StatefulSet, revs ...Rev) []*corev1.Pod {
		var out []*corev1.Pod
		for i, r := range revs {
			out = append(out, pod(ss, i, r, ready))
		}
		return out
	}
	ss := mkSet(3)
	for _, tc := range []struct {
		name   string
		ss     *appsv1.StatefulSet
		pods   []*corev1.Pod
		create []string
		delete []string
		cur    string // status.currentRevision
	}{
		{name: "highest first", ss: ss, pods: all(ss, rev1, rev1, rev1), delete: []string{"web-2"}, cur: "web-r1"},
		{name: "replaced pod made at the update revision", ss: ss, pods: all(ss, rev1, rev1), create: []string{"web-2"}, cur: "web-r1"},
		{name: "waits for the updated pod to be ready", ss: ss,
			pods: []*corev1.Pod{pod(ss, 0, rev1, ready), pod(ss, 1, rev1, ready), pod(ss, 2, rev2, pending)}, cur: "web-r1"},
		{name: "then the next lower", ss: ss, pods: all(ss, rev1, rev1, rev2), delete: []string{"web-1"}, cur: "web-r1"},
		{name: "done", ss: ss, pods: all(ss, rev2, rev2, rev2), cur: "web-r2"},
		{name: "partition keeps lower ordinals", ss: mkSet(3, partitioned(2)), pods: all(ss, rev1, rev1, rev2), cur: "web-r1"},
		{name: "partition: a deleted lower pod comes back at the current revision", ss: mkSet(3, partitioned(2)), pods: []*corev1.Pod{pod(ss, 0, rev1, ready), pod(ss, 2, rev2, ready)}, create: []string{"web-1"}, cur: "web-r1"},
		{name: "on delete: nothing replaced", ss: mkSet(3, onDelete), pods: all(ss, rev1, rev1, rev1), cur: "web-r1"},
		{name: "on delete: the current revision stays, as in Kubernetes", ss: mkSet(3, onDelete), pods: all(ss, rev2, rev2, rev2), cur: "web-r1"},
		{name: "on delete: a deleted pod comes back updated", ss: mkSet(3, onDelete), pods: all(ss, rev1, rev1), create: []string{"web-2"}, cur: "web-r1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := Sync(Input{Set: tc.ss, Pods: tc.pods, Current: rev1, Update: rev2, Now: t0})
			if got := names(p.Create); !reflect.DeepEqual(got, nonNil(tc.create)) {
				t.Errorf("create %v, want %v", got, tc.create)
			}
			if got := names(p.Delete); !reflect.DeepEqual(got, nonNil(tc.delete)) {
				t.Errorf("delete %v, want %v", got, tc.delete)
			}
			if p.Status.CurrentRevision != tc.cur || p.Status.UpdateRevision != "web-r2" {
				t.Errorf("revisions %s %s", p.Status.CurrentRevision, p.Status.UpdateRevision)
			}
			for _, c := range p.Create {
				want := "web-r2"
				if tc.name == "partition: a deleted lower pod comes back at the current revision" {
					want = "web-r1"
				}
				if Revision(c) != want || c.Spec.Containers[0].Image != map[string]string{"web-r1": "web:1", "web-r2": "web:2"}[want] {
					t.Errorf("created %s at %s (%s)", c.Name, Revision(c), c.Spec.Containers[0].Image)
				}
			}
		})
	}
}

func TestStatus(t *testing.T) {
	ss := mkSet(3, func(ss *appsv1.StatefulSet) { ss.Spec.MinReadySeconds = 10; ss.Generation = 4 })
	fresh := func(p *corev1.Pod) {
		ready(p)
		p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(-4 * time.Second))
	}
	two := int32(2)
	p := Sync(Input{Set: ss, Pods: []*corev1.Pod{pod(ss, 0, rev1, ready), pod(ss, 1, rev2, fresh), pod(ss, 2, rev2, pending)},
		Current: rev1, Update: rev2, CollisionCount: &two, Now: t0})
	want := appsv1.StatefulSetStatus{ObservedGeneration: 4, Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 1, CurrentReplicas: 1, UpdatedReplicas: 2,
		CurrentRevision: "web-r1", UpdateRevision: "web-r2", CollisionCount: &two}
	if !reflect.DeepEqual(p.Status, want) {
		t.Fatalf("status %+v, want %+v", p.Status, want)
	}
	if p.RequeueAfter != 6*time.Second {
		t.Fatalf("requeue after %v", p.RequeueAfter)
	}
	if len(p.Create)+len(p.Delete) != 0 {
		t.Fatalf("web-1 is not available yet: create %v delete %v", names(p.Create), names(p.Delete))
	}
}

func TestClaims(t *testing.T) {
	withClaims := func(whenDeleted, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType) setOpt {
		return func(ss *appsv1.StatefulSet) {
			ss.Spec.VolumeClaimTemplates = []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "www"}}, {ObjectMeta: metav1.ObjectMeta{Name: "logs"}}}
			ss.Spec.Template.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "www", MountPath: "/www"}}
			ss.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{WhenDeleted: whenDeleted, WhenScaled: whenScaled}
		}
	}
	ss := mkSet(2, withClaims(appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType))
	p := Sync(Input{Set: ss, Current: rev1, Update: rev1, Now: t0})
	if len(p.CreateClaims) != 2 || p.CreateClaims[0].Name != "www-web-0" || p.CreateClaims[1].Name != "logs-web-0" {
		t.Fatalf("claims %+v", p.CreateClaims)
	}
	if len(p.CreateClaims[0].OwnerReferences) != 0 || p.CreateClaims[0].Labels["app"] != "web" {
		t.Fatalf("retained claim meta %+v", p.CreateClaims[0].ObjectMeta)
	}
	// The pod mounts its claims (the set's template, not the revision,
	// names them).
	vols := p.Create[0].Spec.Volumes
	if len(vols) != 2 || vols[0].PersistentVolumeClaim.ClaimName != "www-web-0" || vols[1].PersistentVolumeClaim.ClaimName != "logs-web-0" {
		t.Fatalf("volumes %+v", vols)
	}
	// Existing claims are not made again; a deleted pod finds its claims.
	have := map[string]*corev1.PersistentVolumeClaim{"www-web-0": {}, "logs-web-0": {}}
	p = Sync(Input{Set: ss, Pods: []*corev1.Pod{pod(ss, 0, rev1, ready)}, Claims: have, Current: rev1, Update: rev1, Now: t0})
	if len(p.CreateClaims) != 2 || p.CreateClaims[0].Name != "www-web-1" || names(p.Create)[0] != "web-1" {
		t.Fatalf("claims %v pods %v", p.CreateClaims, names(p.Create))
	}

	del := mkSet(1, withClaims(appsv1.DeletePersistentVolumeClaimRetentionPolicyType, appsv1.DeletePersistentVolumeClaimRetentionPolicyType))
	p = Sync(Input{Set: del, Current: rev1, Update: rev1, Now: t0})
	if refs := p.CreateClaims[0].OwnerReferences; len(refs) != 1 || refs[0].Kind != "StatefulSet" || refs[0].UID != "ss-uid" || refs[0].Controller != nil {
		t.Fatalf("whenDeleted: Delete refs %+v", refs)
	}
	// Scaling away web-1 first gives its claims an owner reference to it.
	claim := func(name string) *corev1.PersistentVolumeClaim {
		return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name}}
	}
	have = map[string]*corev1.PersistentVolumeClaim{"www-web-0": claim("www-web-0"), "logs-web-0": claim("logs-web-0"), "www-web-1": claim("www-web-1"), "logs-web-1": claim("logs-web-1")}
	p = Sync(Input{Set: del, Pods: []*corev1.Pod{pod(del, 0, rev1, ready), pod(del, 1, rev1, ready)}, Claims: have, Current: rev1, Update: rev1, Now: t0})
	if names(p.Delete)[0] != "web-1" || len(p.UpdateClaims) != 2 || p.UpdateClaims[0].OwnerReferences[0].UID != "pod-uid-web-1" {
		t.Fatalf("scale down: delete %v update claims %+v", names(p.Delete), p.UpdateClaims)
	}
}

func TestMaxUnavailable(t *testing.T) {
	two := intstr.FromInt32(2)
	ss := mkSet(4, func(ss *appsv1.StatefulSet) { ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &two })
	all := []*corev1.Pod{pod(ss, 0, rev1, ready), pod(ss, 1, rev1, ready), pod(ss, 2, rev1, ready), pod(ss, 3, rev1, ready)}
	if p := Sync(Input{Set: ss, Pods: all, Current: rev1, Update: rev2, Now: t0}); !reflect.DeepEqual(names(p.Delete), []string{"web-3", "web-2"}) {
		t.Fatalf("delete %v, want web-3 web-2", names(p.Delete))
	}
	// One updated pod not ready yet: only one more goes (Parallel; under
	// OrderedReady the unready pod blocks everything).
	parallel(ss)
	some := []*corev1.Pod{pod(ss, 0, rev1, ready), pod(ss, 1, rev1, ready), pod(ss, 2, rev2, ready), pod(ss, 3, rev2, pending)}
	if p := Sync(Input{Set: ss, Pods: some, Current: rev1, Update: rev2, Now: t0}); !reflect.DeepEqual(names(p.Delete), []string{"web-1"}) {
		t.Fatalf("delete %v, want web-1", names(p.Delete))
	}
}

// OrderedReady waits minReadySeconds after a pod is ready before the next.
func TestOrderedWaitsForAvailable(t *testing.T) {
	ss := mkSet(3, func(ss *appsv1.StatefulSet) { ss.Spec.MinReadySeconds = 10 })
	fresh := func(p *corev1.Pod) {
		ready(p)
		p.Status.Conditions[0].LastTransitionTime = metav1.NewTime(t0.Add(-4 * time.Second))
	}
	p := Sync(Input{Set: ss, Pods: []*corev1.Pod{pod(ss, 0, rev1, fresh)}, Current: rev1, Update: rev1, Now: t0})
	if len(p.Create) != 0 || p.RequeueAfter != 6*time.Second {
		t.Fatalf("create %v requeue %v, want none and 6s", names(p.Create), p.RequeueAfter)
	}
	p = Sync(Input{Set: ss, Pods: []*corev1.Pod{pod(ss, 0, rev1, fresh)}, Current: rev1, Update: rev1, Now: t0.Add(6 * time.Second)})
	if !reflect.DeepEqual(names(p.Create), []string{"web-1"}) {
		t.Fatalf("create %v, want web-1", names(p.Create))
	}
}
