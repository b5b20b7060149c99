package kubeapi_test

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Pod Security admission through client-go: a namespace labelled
// enforce=restricted refuses a privileged pod with 403 naming what is
// wrong, and stores nothing; warn=restricted admits it with a Warning
// header, as kube-apiserver's PodSecurity plugin does.
func TestPodSecurityAdmissionThroughClientGo(t *testing.T) {
	_, cfg, _ := startAPI(t)
	ctx := ctxT(t)
	w := &warnings{}
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = w
	cs := kubernetes.NewForConfigOrDie(cfg)

	for name, labels := range map[string]map[string]string{
		"locked": {"pod-security.kubernetes.io/enforce": "restricted"},
		"warned": {"pod-security.kubernetes.io/warn": "restricted"},
	} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	yes := true
	privileged := func() *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "root"},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "busybox",
				SecurityContext: &corev1.SecurityContext{Privileged: &yes}}}}}
	}

	_, err := cs.CoreV1().Pods("locked").Create(ctx, privileged(), metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("a privileged pod in an enforce=restricted namespace: want 403 Forbidden, got %v", err)
	}
	for _, want := range []string{`violates PodSecurity "restricted:latest"`, "privileged", `container "c"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the refusal %q does not name %q", err, want)
		}
	}
	if _, err := cs.CoreV1().Pods("locked").Get(ctx, "root", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the refused pod was stored: %v", err)
	}

	if _, err := cs.CoreV1().Pods("warned").Create(ctx, privileged(), metav1.CreateOptions{}); err != nil {
		t.Fatalf("a privileged pod in a warn=restricted namespace: %v", err)
	}
	if !strings.Contains(w.all(), `would violate PodSecurity "restricted:latest"`) {
		t.Fatalf("no Pod Security warning on the admitted pod; warnings: %q", w.all())
	}

	// Labelling a namespace enforce=baseline warns about the pods already
	// in it that the level would refuse (and keeps them).
	ns, err := cs.CoreV1().Namespaces().Get(ctx, "warned", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ns.Labels["pod-security.kubernetes.io/enforce"] = "baseline"
	if _, err := cs.CoreV1().Namespaces().Update(ctx, ns, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("labelling the namespace: %v", err)
	}
	if !strings.Contains(w.all(), "existing pods in namespace \"warned\" violate the new PodSecurity enforce level") {
		t.Fatalf("no warning about existing pods; warnings: %q", w.all())
	}
	if _, err := cs.CoreV1().Pods("warned").Get(ctx, "root", metav1.GetOptions{}); err != nil {
		t.Fatalf("the existing pod went: %v", err)
	}
}
