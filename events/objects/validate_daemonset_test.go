package objects

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
)

func dsDoc(spec string) string {
	return "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: ds, namespace: default}\nspec: " + spec
}

func TestValidateDaemonSet(t *testing.T) {
	runBadCases(t, []badCase{
		{name: "daemonset selector must match template labels", doc: dsDoc("{selector: {matchLabels: {app: other}}, " + tmpl + "}"),
			want: []string{"spec.template.metadata.labels: Invalid value"}, detail: selectorMismatch},
		{name: "daemonset selector required", doc: dsDoc("{" + tmpl + "}"),
			want: []string{"spec.selector: Required value"}},
		{name: "daemonset restartPolicy must be Always", doc: dsDoc("{selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {restartPolicy: Never, containers: [{name: web, image: nginx}]}}}"),
			want: []string{"spec.template.spec.restartPolicy: Unsupported value"}, detail: `supported values: "Always"`},
		{name: "a valid daemonset", doc: dsDoc("{selector: {matchLabels: {app: web}}, updateStrategy: {rollingUpdate: {maxUnavailable: 10%, maxSurge: 1}}, " + tmpl + "}")},
	})
}

// A DaemonSet's selector is immutable; its template and strategy are not.
func TestDaemonSetSelectorImmutable(t *testing.T) {
	obj, _, err := Decode([]byte(dsDoc("{selector: {matchLabels: {app: web}}, " + tmpl + "}")))
	if err != nil {
		t.Fatal(err)
	}
	Default(obj)
	cur := obj.(*appsv1.DaemonSet)
	next := cur.DeepCopy()
	next.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	next.Spec.MinReadySeconds = 5
	if errs := ValidateUpdate(next, cur); len(errs) > 0 {
		t.Fatalf("template change refused: %v", errs)
	}
	bad := next.DeepCopy()
	bad.Spec.Selector.MatchLabels["tier"] = "x"
	bad.Spec.Template.Labels["tier"] = "x"
	errs := ValidateUpdate(bad, cur)
	if got := strings.Join(errKeys(errs), "; "); got != "spec.selector: Invalid value" {
		t.Fatalf("errors %q, want spec.selector: Invalid value", got)
	}
	if !strings.Contains(errs.ToAggregate().Error(), "field is immutable") {
		t.Fatalf("error %v does not say immutable", errs.ToAggregate())
	}
}

// A StatefulSet's spec may change only in the fields Kubernetes allows.
func TestStatefulSetUpdateForbidden(t *testing.T) {
	obj, _, err := Decode([]byte("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: web, namespace: default}\nspec: {serviceName: nginx, selector: {matchLabels: {app: web}}, " + tmpl + "}"))
	if err != nil {
		t.Fatal(err)
	}
	Default(obj)
	cur := obj.(*appsv1.StatefulSet)
	next := cur.DeepCopy()
	three := int32(3)
	next.Spec.Replicas = &three
	next.Spec.Template.Spec.Containers[0].Image = "nginx:2"
	next.Spec.MinReadySeconds = 5
	next.Spec.Ordinals = &appsv1.StatefulSetOrdinals{Start: 1}
	next.Spec.UpdateStrategy = appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}
	if errs := ValidateUpdate(next, cur); len(errs) > 0 {
		t.Fatalf("allowed changes refused: %v", errs)
	}
	for name, change := range map[string]func(*appsv1.StatefulSet){
		"serviceName":         func(s *appsv1.StatefulSet) { s.Spec.ServiceName = "other" },
		"podManagementPolicy": func(s *appsv1.StatefulSet) { s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement },
		"selector":            func(s *appsv1.StatefulSet) { s.Spec.Selector.MatchLabels["tier"] = "x" },
	} {
		bad := next.DeepCopy()
		change(bad)
		errs := ValidateUpdate(bad, cur)
		if got := strings.Join(errKeys(errs), "; "); got != "spec: Forbidden" {
			t.Fatalf("%s: errors %q, want spec: Forbidden", name, got)
		}
		if !strings.Contains(errs.ToAggregate().Error(), "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template'") {
			t.Fatalf("%s: error %v", name, errs.ToAggregate())
		}
	}
}
