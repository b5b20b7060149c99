package podsecurity

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

type fakeCluster struct {
	ns   map[string]*corev1.Namespace
	pods map[string][]*corev1.Pod
}

func (f *fakeCluster) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	if ns, ok := f.ns[name]; ok {
		return ns, nil
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, nil
}

func (f *fakeCluster) ListPods(_ context.Context, ns string) ([]*corev1.Pod, error) {
	return f.pods[ns], nil
}

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

func privileged(ns, name string) *corev1.Pod {
	yes := true
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "x", SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}}}
}

// plain is a pod baseline admits and restricted does not (no
// runAsNonRoot, no seccomp profile, privilege escalation allowed, all
// capabilities kept).
func plain(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: "x"}}}}
}

func restricted(ns, name string) *corev1.Pod {
	p := plain(ns, name)
	no, yes := false, true
	p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsNonRoot: &yes, SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}}
	p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{AllowPrivilegeEscalation: &no, Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}}
	return p
}

func kind(t *testing.T, name string) *objects.Kind {
	t.Helper()
	k, err := objects.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// admit runs one write through the admission: the error and the warnings
// it gave.
func admit(t *testing.T, a *Admission, k string, obj, cur objects.Object) ([]string, error) {
	t.Helper()
	var warnings []string
	ctx := events.WithAdmissionWarnings(context.Background(), &warnings)
	_, err := a.Admit(ctx, kind(t, k), obj, cur, false)
	return warnings, err
}

func TestPodSecurityLevels(t *testing.T) {
	c := &fakeCluster{ns: map[string]*corev1.Namespace{
		"locked": namespace("locked", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}),
		"team": namespace("team", map[string]string{"pod-security.kubernetes.io/enforce": "baseline",
			"pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/warn-version": "v1.37"}),
	}}
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		obj, cur  objects.Object
		k         string
		forbidden string // a substring of the refusal; "" admits
		warning   string // a substring of a warning; "" expects none
	}{
		{name: "an unlabelled namespace is privileged", obj: privileged("default", "p"), k: "pods"},
		{name: "restricted refuses a privileged pod, naming the field", obj: privileged("locked", "p"), k: "pods",
			forbidden: `pods "p" is forbidden: violates PodSecurity "restricted:latest": privileged (container "c" must not set securityContext.privileged=true)`},
		{name: "restricted refuses a plain pod, naming what it misses", obj: plain("locked", "p"), k: "pods",
			forbidden: `runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)`},
		{name: "restricted admits a restricted pod", obj: restricted("locked", "p"), k: "pods"},
		{name: "baseline enforce refuses privileged", obj: privileged("team", "p"), k: "pods", forbidden: `violates PodSecurity "baseline:latest"`},
		{name: "baseline admits a plain pod and warns at restricted", obj: plain("team", "p"), k: "pods",
			warning: `would violate PodSecurity "restricted:v1.37"`},
		{name: "a workload is never refused, only warned", k: "deployments", obj: &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "locked"},
			Spec:       appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: privileged("locked", "x").Spec}}},
			warning: `would violate PodSecurity "restricted:latest": privileged`},
		{name: "a pod update that changes nothing of its security passes", k: "pods", cur: privileged("locked", "p"),
			obj: func() objects.Object {
				p := privileged("locked", "p")
				p.Labels = map[string]string{"a": "b"}
				return p
			}()},
		{name: "a bad level is invalid", k: "namespaces", obj: namespace("x", map[string]string{"pod-security.kubernetes.io/enforce": "strict"}),
			forbidden: `pod-security.kubernetes.io/enforce`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			warnings, err := admit(t, a, tc.k, tc.obj, tc.cur)
			switch {
			case tc.forbidden == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.forbidden != "" && (err == nil || !strings.Contains(err.Error(), tc.forbidden)):
				t.Fatalf("got %v, want a refusal containing %q", err, tc.forbidden)
			case tc.forbidden != "" && tc.k == "pods" && !apierrors.IsForbidden(err):
				t.Fatalf("%v is not Forbidden", err)
			case tc.forbidden != "" && tc.k == "namespaces" && !apierrors.IsInvalid(err):
				t.Fatalf("%v is not Invalid", err)
			}
			joined := strings.Join(warnings, "\n")
			if (tc.warning == "") != (joined == "") || !strings.Contains(joined, tc.warning) {
				t.Fatalf("warnings %q, want %q", joined, tc.warning)
			}
		})
	}
}

// Turning a namespace restricted warns about the pods already there that
// violate it, and changes nothing else.
func TestNamespaceLevelChangeWarnsAboutExistingPods(t *testing.T) {
	c := &fakeCluster{ns: map[string]*corev1.Namespace{"team": namespace("team", nil)},
		pods: map[string][]*corev1.Pod{"team": {privileged("team", "old"), restricted("team", "good")}}}
	a, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	warnings, err := admit(t, a, "namespaces", namespace("team", map[string]string{"pod-security.kubernetes.io/enforce": "restricted"}), c.ns["team"])
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(warnings, "\n")
	if !strings.Contains(joined, `existing pods in namespace "team" violate the new PodSecurity enforce level "restricted:latest"`) ||
		!strings.Contains(joined, "old: privileged") || strings.Contains(joined, "good") {
		t.Fatalf("warnings %q", joined)
	}
}
