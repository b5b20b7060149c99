// Package podsecurity is Pod Security admission on the write path: the
// namespace labels pod-security.kubernetes.io/enforce|warn|audit (with
// their -version labels) choose a level of the Pod Security Standards
// (privileged, baseline, restricted) for the namespace's pods. A pod that
// violates the enforce level is refused with kube-apiserver's Forbidden,
// naming each check and field; a violation of the warn level is a warning
// the client shows; workloads with a pod template (Deployments, Jobs, ...)
// get the warnings of both levels but are never refused, and a namespace
// whose enforce level changes is told which of its pods violate it.
//
// The decisions are Kubernetes' own: this package adapts the write path
// to k8s.io/pod-security-admission's admission and policy checks and
// writes none of them itself. The audit level has no audit log to go to
// and is accepted and ignored.
package podsecurity

import (
	"context"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	psadmission "k8s.io/pod-security-admission/admission"
	admissionapi "k8s.io/pod-security-admission/admission/api"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/metrics"
	"k8s.io/pod-security-admission/policy"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

// Cluster is what the admission reads of the cluster: a namespace (its
// labels choose the levels) and a namespace's pods (checked when its
// enforce level changes). The live view provides them.
type Cluster interface {
	GetNamespace(ctx context.Context, name string) (*corev1.Namespace, error)
	ListPods(ctx context.Context, namespace string) ([]*corev1.Pod, error)
}

// Admission is an events.Admission.
type Admission struct {
	a *psadmission.Admission
}

var _ events.Admission = (*Admission)(nil)

// New builds the admission with Kubernetes' defaults: a namespace without
// labels is privileged at every mode (nothing is refused), and no user,
// namespace or runtime class is exempt.
func New(c Cluster) (*Admission, error) {
	eval, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, fmt.Errorf("pod security checks: %w", err)
	}
	latest := psapi.VersionLatest
	cfg := &admissionapi.PodSecurityConfiguration{Defaults: admissionapi.PodSecurityDefaults{
		Enforce: string(psapi.LevelPrivileged), EnforceVersion: latest,
		Audit: string(psapi.LevelPrivileged), AuditVersion: latest,
		Warn: string(psapi.LevelPrivileged), WarnVersion: latest,
	}}
	a := &psadmission.Admission{Configuration: cfg, Evaluator: eval, Metrics: noMetrics{}, NamespaceGetter: c, PodLister: c}
	if err := a.CompleteConfiguration(); err != nil {
		return nil, fmt.Errorf("pod security configuration: %w", err)
	}
	if err := a.ValidateConfiguration(); err != nil {
		return nil, fmt.Errorf("pod security configuration: %w", err)
	}
	return &Admission{a: a}, nil
}

// Admits implements events.Admission: namespaces, pods and every kind
// with a pod template.
func (p *Admission) Admits(k *objects.Kind) bool {
	return k.Resource == "namespaces" || psadmission.DefaultPodSpecExtractor{}.HasPodSpec(groupResource(k))
}

// Admit implements events.Admission. Removals pass.
func (p *Admission) Admit(ctx context.Context, k *objects.Kind, obj, cur objects.Object, _ bool) (func(*events.Result, error), error) {
	if obj == nil {
		return nil, nil
	}
	attrs := &psapi.AttributesRecord{
		Name: obj.GetName(), Namespace: obj.GetNamespace(),
		Kind:      k.GVK(),
		Resource:  groupResource(k).WithVersion(k.Version),
		Operation: admissionv1.Create,
		Object:    obj,
	}
	if cur != nil {
		attrs.Operation, attrs.OldObject = admissionv1.Update, runtime.Object(cur)
	}
	resp := p.a.Validate(ctx, attrs)
	for _, w := range resp.Warnings {
		events.AdmissionWarning(ctx, w)
	}
	if resp.Allowed {
		return nil, nil
	}
	if resp.Result == nil {
		return nil, events.Errorf(events.ReasonForbidden, "%s %q is forbidden by pod security admission", k.Resource, obj.GetName())
	}
	return nil, events.FromStatus(resp.Result)
}

func groupResource(k *objects.Kind) schema.GroupResource {
	return schema.GroupResource{Group: k.Group, Resource: k.Resource}
}

// noMetrics records nothing: Strom has no metrics endpoint for it yet.
type noMetrics struct{}

func (noMetrics) RecordEvaluation(metrics.Decision, psapi.LevelVersion, metrics.Mode, psapi.Attributes) {
}
func (noMetrics) RecordExemption(psapi.Attributes)   {}
func (noMetrics) RecordError(bool, psapi.Attributes) {}
