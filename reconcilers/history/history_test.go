package history

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
)

var dsGVK = appsv1.SchemeGroupVersion.WithKind("DaemonSet")

func template(image string) *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
	}
}

func daemonSet(image string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "kube-system", UID: "u1"},
		Spec:       appsv1.DaemonSetSpec{Template: *template(image)},
	}
}

func TestTemplateRoundTripAndKubectlUndo(t *testing.T) {
	old := template("agent:1")
	old.Annotations = map[string]string{"note": "v1"}
	data, err := TemplatePatch(old)
	if err != nil {
		t.Fatal(err)
	}
	rev := New(daemonSet("agent:1"), dsGVK, old.Labels, data, 1, nil)
	got, err := Template(rev)
	if err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(got, old) {
		t.Fatalf("round trip: got %+v, want %+v", got, old)
	}
	// kubectl rollout undo applies the data as a strategic-merge patch to
	// the parent: the result must hold exactly the old template, with no
	// field of the newer one left over.
	cur := daemonSet("agent:2")
	cur.Spec.Template.Spec.Containers = append(cur.Spec.Template.Spec.Containers, corev1.Container{Name: "extra", Image: "x"})
	cur.Spec.Template.Labels["tier"] = "new"
	raw, _ := json.Marshal(cur)
	patched, err := strategicpatch.StrategicMergePatch(raw, data, &appsv1.DaemonSet{})
	if err != nil {
		t.Fatal(err)
	}
	var after appsv1.DaemonSet
	if err := json.Unmarshal(patched, &after); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(after.Spec.Template, *old) {
		t.Fatalf("undo gave template %+v, want %+v", after.Spec.Template, *old)
	}
}

func TestNewNameHashAndLabels(t *testing.T) {
	data, _ := TemplatePatch(template("agent:1"))
	a := New(daemonSet("agent:1"), dsGVK, map[string]string{"app": "agent"}, data, 3, nil)
	if a.Name != "agent-"+a.Labels[HashLabel] || a.Namespace != "kube-system" || a.Revision != 3 || a.Labels["app"] != "agent" {
		t.Fatalf("revision meta: %+v", a.ObjectMeta)
	}
	ref := metav1.GetControllerOf(a)
	if ref == nil || ref.Kind != "DaemonSet" || ref.UID != "u1" || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Fatalf("owner reference: %+v", ref)
	}
	if Hash(data, nil) != Hash(data, nil) {
		t.Fatal("hash is not deterministic")
	}
	one := int32(1)
	if Hash(data, &one) == Hash(data, nil) {
		t.Fatal("the collision count does not change the hash")
	}
	other, _ := TemplatePatch(template("agent:2"))
	if Hash(other, nil) == Hash(data, nil) {
		t.Fatal("different templates hash alike")
	}
	long := daemonSet("x")
	long.Name = strings.Repeat("a", 240)
	if n := len(New(long, dsGVK, nil, data, 1, nil).Name); n > 253 {
		t.Fatalf("name of %d characters", n)
	}
}

func rev(ds *appsv1.DaemonSet, image string, n int64) *appsv1.ControllerRevision {
	data, _ := TemplatePatch(template(image))
	return New(ds, dsGVK, nil, data, n, nil)
}

func TestPlanCurrent(t *testing.T) {
	ds := daemonSet("agent:2")
	r1, r2 := rev(ds, "agent:1", 1), rev(ds, "agent:2", 2)
	dup := rev(ds, "agent:1", 0)
	dup.Name += "-dup" // an equal revision under another name
	for _, tc := range []struct {
		name         string
		ds           *appsv1.DaemonSet
		revs         []*appsv1.ControllerRevision
		create       bool
		renumber     int64 // 0: none
		currentRev   int64
		dedup        int
		currentMatch *appsv1.ControllerRevision
	}{
		{name: "first revision", ds: ds, create: true, currentRev: 1},
		{name: "annotations kept", ds: withCause(daemonSet("agent:9"), "kubectl set image"), create: true, currentRev: 1},
		{name: "template changed", ds: daemonSet("agent:3"), revs: []*appsv1.ControllerRevision{r1, r2}, create: true, currentRev: 3},
		{name: "unchanged", ds: ds, revs: []*appsv1.ControllerRevision{r1, r2}, currentRev: 2, currentMatch: r2},
		{name: "rolled back to an older revision", ds: daemonSet("agent:1"), revs: []*appsv1.ControllerRevision{r1, r2}, renumber: 3, currentRev: 3},
		{name: "duplicates are removed", ds: daemonSet("agent:1"), revs: []*appsv1.ControllerRevision{dup, r1, r2}, renumber: 3, currentRev: 3, dedup: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanCurrent(Input{Parent: tc.ds, GVK: dsGVK, Template: &tc.ds.Spec.Template, Revisions: tc.revs})
			if err != nil {
				t.Fatal(err)
			}
			if (p.Create != nil) != tc.create {
				t.Errorf("create = %v, want %v", p.Create != nil, tc.create)
			}
			if tc.renumber != 0 && (p.Renumber == nil || p.Renumber.Revision != tc.renumber) {
				t.Errorf("renumber = %+v, want revision %d", p.Renumber, tc.renumber)
			}
			if tc.renumber == 0 && p.Renumber != nil {
				t.Errorf("unexpected renumber %+v", p.Renumber)
			}
			if p.Current == nil || p.Current.Revision != tc.currentRev {
				t.Fatalf("current = %+v, want revision %d", p.Current, tc.currentRev)
			}
			if tc.currentMatch != nil && p.Current != tc.currentMatch {
				t.Errorf("current is not the existing revision")
			}
			if len(p.Dedup) != tc.dedup {
				t.Errorf("dedup = %d, want %d", len(p.Dedup), tc.dedup)
			}
			if p.Create != nil && p.Create.Annotations["kubernetes.io/change-cause"] != tc.ds.Annotations["kubernetes.io/change-cause"] {
				t.Errorf("new revision's annotations %v, want the set's %v", p.Create.Annotations, tc.ds.Annotations)
			}
			tmpl, err := Template(p.Current)
			if err != nil || !equality.Semantic.DeepEqual(*tmpl, tc.ds.Spec.Template) {
				t.Errorf("current holds %+v (%v), want the set's template", tmpl, err)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	ds := daemonSet("x")
	var revs []*appsv1.ControllerRevision
	for i, img := range []string{"a", "b", "c", "d", "e"} {
		revs = append(revs, rev(ds, img, int64(i+1)))
	}
	names := func(rs []*appsv1.ControllerRevision) (out []int64) {
		for _, r := range rs {
			out = append(out, r.Revision)
		}
		return out
	}
	keep := map[string]bool{revs[4].Name: true, revs[0].Name: true} // current, and one a live pod uses
	for _, tc := range []struct {
		limit int32
		want  []int64
	}{
		{limit: 10, want: nil},
		{limit: 3, want: nil},
		{limit: 2, want: []int64{2}},
		{limit: 0, want: []int64{2, 3, 4}},
		{limit: -1, want: []int64{2, 3, 4}},
	} {
		got := names(Truncate(revs, keep, tc.limit))
		if len(got) != len(tc.want) {
			t.Fatalf("limit %d: deleted %v, want %v", tc.limit, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Fatalf("limit %d: deleted %v, want %v", tc.limit, got, tc.want)
			}
		}
	}
}

func withCause(ds *appsv1.DaemonSet, cause string) *appsv1.DaemonSet {
	ds.Annotations = map[string]string{"kubernetes.io/change-cause": cause}
	return ds
}
