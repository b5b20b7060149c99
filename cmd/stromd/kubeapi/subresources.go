package kubeapi

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strom-project/strom/events/api"
)

// statusResource is a kind's status subresource: a PUT or PATCH changes
// only the status (the write path's status update).
type statusResource struct{ r *resource }

var (
	_ rest.Patcher        = (*statusResource)(nil)
	_ rest.TableConvertor = (*statusResource)(nil)
)

func (s *statusResource) New() runtime.Object { return s.r.New() }
func (s *statusResource) Destroy()            {}
func (s *statusResource) Get(ctx context.Context, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	return s.r.Get(ctx, name, opts)
}

func (s *statusResource) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, _ bool, opts *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return s.r.update(ctx, name, objInfo, createValidation, updateValidation, false, opts, api.VerbStatus)
}

func (s *statusResource) ConvertToTable(ctx context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	return s.r.ConvertToTable(ctx, obj, opts)
}

// scalable are the kinds with a scale subresource (autoscaling/v1 Scale).
var scalable = map[string]bool{"Deployment": true, "ReplicaSet": true, "StatefulSet": true, "ReplicationController": true}

// scaleResource is the scale subresource: spec.replicas of the parent,
// and status.replicas and the selector from its status.
type scaleResource struct{ r *resource }

var _ rest.Patcher = (*scaleResource)(nil)

func (s *scaleResource) New() runtime.Object { return &autoscalingv1.Scale{} }
func (s *scaleResource) Destroy()            {}

func (s *scaleResource) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale")
}

func (s *scaleResource) Get(ctx context.Context, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	obj, err := s.r.Get(ctx, name, opts)
	if err != nil {
		return nil, err
	}
	return scaleOf(obj)
}

func (s *scaleResource) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, _ rest.ValidateObjectFunc,
	_ rest.ValidateObjectUpdateFunc, _ bool, opts *metav1.UpdateOptions) (runtime.Object, bool, error) {
	ctx = withNamespace(ctx)
	for attempt := 0; ; attempt++ {
		parent, err := s.r.Get(ctx, name, &metav1.GetOptions{})
		if err != nil {
			return nil, false, err
		}
		old, err := scaleOf(parent)
		if err != nil {
			return nil, false, err
		}
		obj, err := objInfo.UpdatedObject(ctx, old)
		if err != nil {
			return nil, false, err
		}
		sc, ok := obj.(*autoscalingv1.Scale)
		if !ok {
			return nil, false, apierrors.NewBadRequest(fmt.Sprintf("expected a Scale, got %T", obj))
		}
		if sc.Spec.Replicas < 0 {
			return nil, false, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), name,
				field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), sc.Spec.Replicas, "must be greater than or equal to 0")})
		}
		if sc.ResourceVersion != "" && sc.ResourceVersion != old.ResourceVersion {
			return nil, false, s.r.conflict(name)
		}
		if err := setReplicas(parent, sc.Spec.Replicas); err != nil {
			return nil, false, err
		}
		out, _, err := s.r.write(ctx, api.VerbUpdate, parent, opts != nil && isDryRun(opts.DryRun))
		if apierrors.IsConflict(err) && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		res, err := scaleOf(out)
		return res, false, err
	}
}

// scaleOf is a parent's Scale, as kube-apiserver builds it.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	var (
		meta     metav1.ObjectMeta
		replicas *int32
		current  int32
		selector *metav1.LabelSelector
	)
	switch o := obj.(type) {
	case *appsv1.Deployment:
		meta, replicas, current, selector = o.ObjectMeta, o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector
	case *appsv1.ReplicaSet:
		meta, replicas, current, selector = o.ObjectMeta, o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector
	case *appsv1.StatefulSet:
		meta, replicas, current, selector = o.ObjectMeta, o.Spec.Replicas, o.Status.Replicas, o.Spec.Selector
	case *corev1.ReplicationController:
		meta, replicas, current = o.ObjectMeta, o.Spec.Replicas, o.Status.Replicas
		if len(o.Spec.Selector) > 0 {
			selector = &metav1.LabelSelector{MatchLabels: o.Spec.Selector}
		}
	default:
		return nil, apierrors.NewInternalError(fmt.Errorf("%T has no scale subresource", obj))
	}
	sc := &autoscalingv1.Scale{
		ObjectMeta: metav1.ObjectMeta{Name: meta.Name, Namespace: meta.Namespace, UID: meta.UID,
			ResourceVersion: meta.ResourceVersion, CreationTimestamp: meta.CreationTimestamp},
		Status: autoscalingv1.ScaleStatus{Replicas: current},
	}
	sc.Spec.Replicas = 1
	if replicas != nil {
		sc.Spec.Replicas = *replicas
	}
	if selector != nil {
		if sel, err := metav1.LabelSelectorAsSelector(selector); err == nil {
			sc.Status.Selector = sel.String()
		}
	}
	return sc, nil
}

// setReplicas sets a parent's spec.replicas.
func setReplicas(obj runtime.Object, n int32) error {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		o.Spec.Replicas = &n
	case *appsv1.StatefulSet:
		o.Spec.Replicas = &n
	case *corev1.ReplicationController:
		o.Spec.Replicas = &n
	default:
		return apierrors.NewInternalError(fmt.Errorf("%T has no scale subresource", obj))
	}
	return nil
}
