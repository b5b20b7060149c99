package statefulsetctl_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/ctlutil/ctltest"
	"github.com/strom-project/strom/reconcilers/history"
	"github.com/strom-project/strom/reconcilers/statefulsetctl"
	"github.com/strom-project/strom/test/logtest"
)

const stsJSON = `{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"web"},"spec":{"replicas":2,"serviceName":"nginx",
"selector":{"matchLabels":{"app":"web"}},
"persistentVolumeClaimRetentionPolicy":{"whenDeleted":"Delete"},
"volumeClaimTemplates":[{"metadata":{"name":"www"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}}}}],
"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"web:1","volumeMounts":[{"name":"www","mountPath":"/www"}]}]}}}}`

func pods(t *testing.T, e *ctltest.Env) []*corev1.Pod {
	t.Helper()
	ps, err := ctlutil.List[corev1.Pod](e.Store, projections.Query{Resource: "pods", Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].Name < ps[b].Name })
	return ps
}

func names(ps []*corev1.Pod) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return strings.Join(out, ",")
}

func ready(e *ctltest.Env, p *corev1.Pod) {
	e.T.Helper()
	next := p.DeepCopy()
	next.Status.Phase = corev1.PodRunning
	next.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(e.Clock.Now())}}
	e.Write(next, "status")
}

func reconcile(t *testing.T, e *ctltest.Env, r *statefulsetctl.Reconciler) {
	t.Helper()
	if _, err := r.Reconcile(context.Background(), "default/web"); err != nil {
		t.Fatal(err)
	}
	e.Sync()
}

func getSet(e *ctltest.Env) *appsv1.StatefulSet {
	var ss appsv1.StatefulSet
	if !e.Get("statefulsets", "default", "web", &ss) {
		e.T.Fatal("statefulset gone")
	}
	return &ss
}

// purge removes a pod being deleted, as its node would once it stopped.
func purge(t *testing.T, e *ctltest.Env, p *corev1.Pod) {
	t.Helper()
	if _, err := e.Writer.Delete(context.Background(), objects.ByKind("Pod"), p.Namespace, p.Name, events.DeleteOptions{Now: true}, events.WriteOptions{Actor: "test"}); err != nil && !events.IsNotFound(err) {
		t.Fatal(err)
	}
	e.Sync()
}

// going reports whether the pod is gone or being deleted (a pod on no
// node goes at once).
func going(e *ctltest.Env, name string) bool {
	var p corev1.Pod
	return !e.Get("pods", "default", name, &p) || p.DeletionTimestamp != nil
}

func ptr[T any](v T) *T { return &v }

// Claims before pods, one ordinal at a time, a revision per template, a
// rolling update from the highest ordinal; Kubernetes' Events.
func TestOrderedClaimsAndRollingUpdate(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(stsJSON)
	r := statefulsetctl.New(e.Env)
	reconcile(t, e, r)
	ps := pods(t, e)
	if names(ps) != "web-0" {
		t.Fatalf("pods %s", names(ps))
	}
	var pvc corev1.PersistentVolumeClaim
	if !e.Get("persistentvolumeclaims", "default", "www-web-0", &pvc) {
		t.Fatal("no claim www-web-0")
	}
	ss := getSet(e)
	if refs := pvc.OwnerReferences; len(refs) != 1 || refs[0].UID != ss.UID {
		t.Fatalf("claim owners %+v", refs)
	}
	p0 := ps[0]
	if p0.Spec.Hostname != "web-0" || p0.Spec.Subdomain != "nginx" || p0.Labels[history.HashLabel] != ss.Status.UpdateRevision ||
		p0.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "www-web-0" {
		t.Fatalf("pod %+v labels %v, status %+v", p0.Spec, p0.Labels, ss.Status)
	}
	reconcile(t, e, r) // web-0 not ready: nothing
	if names(pods(t, e)) != "web-0" {
		t.Fatalf("pods %s", names(pods(t, e)))
	}
	ready(e, p0)
	reconcile(t, e, r)
	ps = pods(t, e)
	if names(ps) != "web-0,web-1" {
		t.Fatalf("pods %s", names(ps))
	}
	ready(e, ps[1])
	reconcile(t, e, r)
	ss = getSet(e)
	rev1 := ss.Status.UpdateRevision
	if s := ss.Status; s.Replicas != 2 || s.ReadyReplicas != 2 || s.AvailableReplicas != 2 || s.CurrentReplicas != 2 || s.UpdatedReplicas != 2 ||
		s.CurrentRevision != rev1 || !strings.HasPrefix(rev1, "web-") || s.ObservedGeneration != ss.Generation {
		t.Fatalf("status %+v", s)
	}

	ss.Spec.Template.Spec.Containers[0].Image = "web:2"
	e.Write(ss, "update")
	reconcile(t, e, r)
	ss = getSet(e)
	if ss.Status.UpdateRevision == rev1 || ss.Status.CurrentRevision != rev1 {
		t.Fatalf("revisions %+v", ss.Status)
	}
	if !going(e, "web-1") || going(e, "web-0") {
		t.Fatal("web-1 is not the first replaced")
	}
	purge(t, e, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web-1"}})
	reconcile(t, e, r)
	ps = pods(t, e)
	if names(ps) != "web-0,web-1" || ps[1].Spec.Containers[0].Image != "web:2" || ps[1].Labels[history.HashLabel] != ss.Status.UpdateRevision {
		t.Fatalf("web-1 after the update: %s %v", ps[1].Spec.Containers[0].Image, ps[1].Labels)
	}
	reconcile(t, e, r) // web-1 not ready: web-0 stays
	if pods(t, e)[0].DeletionTimestamp != nil {
		t.Fatal("web-0 replaced before web-1 is ready")
	}
	ready(e, ps[1])
	reconcile(t, e, r)
	if !going(e, "web-0") {
		t.Fatal("web-0 not replaced")
	}
	reconcile(t, e, r)
	ready(e, pods(t, e)[0])
	reconcile(t, e, r)
	ss = getSet(e)
	if s := ss.Status; s.CurrentRevision != s.UpdateRevision || s.UpdatedReplicas != 2 || s.CurrentReplicas != 2 {
		t.Fatalf("status after the rollout %+v", s)
	}
	// The claim survived its pod's replacement.
	if e.Count("persistentvolumeclaims", "default") != 2 {
		t.Fatalf("%d claims", e.Count("persistentvolumeclaims", "default"))
	}

	// Scale to 0: web-1 then web-0.
	ss.Spec.Replicas = ptr(int32(0))
	e.Write(ss, "update")
	reconcile(t, e, r)
	if !going(e, "web-1") || going(e, "web-0") {
		t.Fatal("web-1 is not the first removed")
	}
	reconcile(t, e, r)
	if !going(e, "web-0") {
		t.Fatalf("pods %s", names(pods(t, e)))
	}

	var want = []string{
		"SuccessfulCreate create Claim www-web-0 Pod web-0 in StatefulSet web success",
		"SuccessfulCreate create Pod web-0 in StatefulSet web successful",
		"SuccessfulCreate create Pod web-1 in StatefulSet web successful",
		"SuccessfulDelete delete Pod web-1 in StatefulSet web successful",
	}
	logtest.Eventually(t, 10*time.Second, func() error {
		var got []string
		for _, ev := range e.Events(0) {
			if ev.Resource != "events" || ev.Type != events.TypeCreated {
				continue
			}
			if obj, _, err := objects.DecodeJSON(ev.Object); err == nil {
				if ke, ok := obj.(*corev1.Event); ok {
					got = append(got, ke.Reason+" "+ke.Message)
				}
			}
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("no event %q in %q", w, got)
			}
		}
		return nil
	})
	// Every pod write is the controller's.
	for _, ev := range e.Events(0) {
		if ev.Resource == "pods" && ev.Type == events.TypeCreated && ev.Actor != statefulsetctl.Actor {
			t.Errorf("pod %s created by %q", ev.Name, ev.Actor)
		}
	}
}

// A failed pod is deleted and made again under its name.
func TestFailedPodRecreated(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(strings.Replace(stsJSON, `"replicas":2`, `"replicas":1,"podManagementPolicy":"Parallel"`, 1))
	r := statefulsetctl.New(e.Env)
	reconcile(t, e, r)
	p := pods(t, e)[0]
	next := p.DeepCopy()
	next.Status.Phase = corev1.PodFailed
	e.Write(next, "status")
	reconcile(t, e, r)
	if !going(e, "web-0") {
		t.Fatal("failed pod not deleted")
	}
	purge(t, e, p)
	reconcile(t, e, r)
	ps := pods(t, e)
	if names(ps) != "web-0" || ps[0].UID == p.UID || ps[0].Status.Phase == corev1.PodFailed {
		t.Fatalf("pods %s", names(ps))
	}
}

// The write path refuses a changed serviceName with Invalid naming spec,
// and writes nothing.
func TestImmutableSpecThroughWriter(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(stsJSON)
	ss := getSet(e)
	before := e.Log.LastSeq(t)
	ss.Spec.ServiceName = "other"
	_, err := e.Writer.Update(context.Background(), ss, events.WriteOptions{Actor: "test"})
	if !events.IsInvalid(err) || !strings.Contains(err.Error(), "spec: Forbidden: updates to statefulset spec for fields other than") {
		t.Fatalf("update error %v, want Invalid spec: Forbidden", err)
	}
	if after := e.Log.LastSeq(t); after != before {
		t.Fatalf("the refused update wrote (seq %d -> %d)", before, after)
	}
}

// whenScaled: Delete gives a scaled-away pod's claims an owner reference
// to the pod before the pod goes; the claims of kept pods stay unowned.
func TestScaledClaimsOwnedByPod(t *testing.T) {
	e := ctltest.Start(t)
	e.Create(strings.Replace(stsJSON, `{"whenDeleted":"Delete"}`, `{"whenScaled":"Delete"},"podManagementPolicy":"Parallel"`, 1))
	r := statefulsetctl.New(e.Env)
	reconcile(t, e, r)
	if names(pods(t, e)) != "web-0,web-1" || e.Count("persistentvolumeclaims", "default") != 2 {
		t.Fatalf("pods %s, %d claims", names(pods(t, e)), e.Count("persistentvolumeclaims", "default"))
	}
	web1 := pods(t, e)[1]
	ss := getSet(e)
	ss.Spec.Replicas = ptr(int32(1))
	e.Write(ss, "update")
	reconcile(t, e, r)
	var c0, c1 corev1.PersistentVolumeClaim
	if !e.Get("persistentvolumeclaims", "default", "www-web-0", &c0) || !e.Get("persistentvolumeclaims", "default", "www-web-1", &c1) {
		t.Fatal("claims gone")
	}
	if len(c0.OwnerReferences) != 0 {
		t.Fatalf("kept claim owners %+v", c0.OwnerReferences)
	}
	if refs := c1.OwnerReferences; len(refs) != 1 || refs[0].Kind != "Pod" || refs[0].UID != web1.UID {
		t.Fatalf("scaled claim owners %+v, want pod web-1 (%s)", refs, web1.UID)
	}
	if !going(e, "web-1") {
		t.Fatal("web-1 not removed")
	}
}
