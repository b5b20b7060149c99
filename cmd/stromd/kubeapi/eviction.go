package kubeapi

import (
	"context"
	"fmt"
	"net/http"

	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
