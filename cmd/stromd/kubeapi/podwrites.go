package kubeapi

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strom-project/strom/events/api"
)

// evictionResource is pods/eviction (policy/v1 Eviction), what `kubectl
// drain` posts: the core's evict verb, which PodDisruptionBudgets may
// refuse with 429 (the caller retries).
type evictionResource struct{ pods *resource }

var _ rest.NamedCreater = (*evictionResource)(nil)

func (e *evictionResource) New() runtime.Object { return &policyv1.Eviction{} }
func (e *evictionResource) Destroy()            {}

func (e *evictionResource) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, opts *metav1.CreateOptions) (runtime.Object, error) {
	ev, ok := obj.(*policyv1.Eviction)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not an Eviction: %T", obj))
	}
	if ev.Name != "" && ev.Name != name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("name in URL does not match name in Eviction object: %s, %s", name, ev.Name))
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	dryRun := opts != nil && isDryRun(opts.DryRun)
	if o := ev.DeleteOptions; o != nil && isDryRun(o.DryRun) {
		dryRun = true
	}
	req := &api.Request{Resource: "pods", Namespace: genericapirequest.NamespaceValue(ctx), Name: name, DryRun: dryRun}
	if _, err := e.pods.core.Do(ctx, api.VerbEvict, caller(ctx), req); err != nil {
		return nil, err
	}
	return &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}, nil
}

// GroupVersionKind is policy/v1 Eviction, though served under the core
// group's pods, as in Kubernetes.
func (e *evictionResource) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return policyv1.SchemeGroupVersion.WithKind("Eviction")
}

// bindingResource is pods/binding (a v1 Binding), how a scheduler other
// than Strom's assigns a pending pod to a node: the pod's spec.nodeName
// is set through the write path, once.
type bindingResource struct{ pods *resource }

var _ rest.NamedCreater = (*bindingResource)(nil)

func (b *bindingResource) New() runtime.Object { return &corev1.Binding{} }
func (b *bindingResource) Destroy()            {}

func (b *bindingResource) Create(ctx context.Context, name string, obj runtime.Object, createValidation rest.ValidateObjectFunc, opts *metav1.CreateOptions) (runtime.Object, error) {
	bd, ok := obj.(*corev1.Binding)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("not a Binding: %T", obj))
	}
	if bd.Name != "" && bd.Name != name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("name in URL does not match name in Binding object: %s, %s", name, bd.Name))
	}
	if bd.Target.Kind != "" && bd.Target.Kind != "Node" {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), name,
			field.ErrorList{field.NotSupported(field.NewPath("target", "kind"), bd.Target.Kind, []string{"Node", ""})})
	}
	if bd.Target.Name == "" {
		return nil, apierrors.NewInvalid(corev1.SchemeGroupVersion.WithKind("Binding").GroupKind(), name,
			field.ErrorList{field.Required(field.NewPath("target", "name"), "")})
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		raced, err := b.bindOnce(ctx, name, bd, opts != nil && isDryRun(opts.DryRun))
		// Another write (a status update) between the read and the append:
		// read again, as etcd's GuaranteedUpdate does; a pod bound
		// meanwhile then fails the nodeName check.
		if raced && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return nil, err
		}
		break
	}
	return &metav1.Status{Status: metav1.StatusSuccess, Code: http.StatusCreated}, nil
}

// bindOnce reads the pod and appends it bound; raced says the append lost
// to another write since the read (worth another try).
func (b *bindingResource) bindOnce(ctx context.Context, name string, bd *corev1.Binding, dryRun bool) (raced bool, err error) {
	cur, err := b.pods.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	pod := cur.(*corev1.Pod)
	if uid := bd.UID; uid != "" && uid != pod.UID {
		return false, b.pods.conflict(name)
	}
	if pod.Spec.NodeName != "" {
		return false, apierrors.NewConflict(b.pods.groupResource(), name,
			fmt.Errorf("pod %s is already assigned to node %q", name, pod.Spec.NodeName))
	}
	if pod.DeletionTimestamp != nil {
		return false, apierrors.NewConflict(b.pods.groupResource(), name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", name))
	}
	// The resourceVersion just read is the precondition: a pod bound
	// meanwhile (by Strom's scheduler) makes this a conflict, not a rebind.
	pod.Spec.NodeName = bd.Target.Name
	_, _, err = b.pods.write(ctx, api.VerbUpdate, pod, dryRun)
	return apierrors.IsConflict(err), err
}
