package kubeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/warning"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// withNamespace makes sure the context names a namespace, even "" for a
// cluster-scoped kind, as rest.BeforeCreate/BeforeUpdate require.
func withNamespace(ctx context.Context) context.Context {
	if _, ok := genericapirequest.NamespaceFrom(ctx); ok {
		return ctx
	}
	return genericapirequest.WithNamespace(ctx, "")
}

func isDryRun(dryRun []string) bool { return len(dryRun) > 0 }

// write sends an object to the core's write verb and decodes what was
// stored; the core's warnings become Warning headers.
func (r *resource) write(ctx context.Context, verb string, obj runtime.Object, dryRun bool) (objects.Object, *api.Response, error) {
	// Objects of a group's internal version carry no apiVersion and kind;
	// the core decodes by them.
	obj.GetObjectKind().SetGroupVersionKind(r.k.GVK())
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, apierrors.NewInternalError(fmt.Errorf("encoding %s: %w", r.k.Kind, err))
	}
	req := &api.Request{Resource: r.k.Resource, Namespace: genericapirequest.NamespaceValue(ctx), Object: data, DryRun: dryRun}
	resp, err := r.core.Do(ctx, verb, caller(ctx), req)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range resp.Warnings {
		warning.AddWarning(ctx, "", w)
	}
	out, err := r.decode(resp.Object)
	return out, resp, err
}

func (r *resource) Create(ctx context.Context, obj runtime.Object, createValidation rest.ValidateObjectFunc, opts *metav1.CreateOptions) (runtime.Object, error) {
	ctx = withNamespace(ctx)
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	generated := m.GetGenerateName() != "" && m.GetName() == ""
	for attempt := 0; ; attempt++ {
		if generated {
			m.SetName(r.strat.GenerateName(m.GetGenerateName()))
		}
		out, err := r.createOnce(ctx, obj, m, createValidation, opts)
		// As kube-apiserver, a generated name that is taken is generated
		// again a few times before the conflict is reported.
		if generated && apierrors.IsAlreadyExists(err) && attempt < maxGenerateAttempts {
			continue
		}
		if err != nil && generated {
			return nil, rest.CheckGeneratedNameError(ctx, r.strat, err, obj)
		}
		return out, err
	}
}

// maxGenerateAttempts bounds the retries of a taken generated name.
const maxGenerateAttempts = 7

func (r *resource) createOnce(ctx context.Context, obj runtime.Object, m metav1.Object, createValidation rest.ValidateObjectFunc, opts *metav1.CreateOptions) (runtime.Object, error) {
	rest.FillObjectMetaSystemFields(m)
	if err := rest.BeforeCreate(r.strat, ctx, obj); err != nil {
		return nil, err
	}
	if createValidation != nil {
		if err := createValidation(ctx, obj.DeepCopyObject()); err != nil {
			return nil, err
		}
	}
	out, _, err := r.write(ctx, api.VerbCreate, obj, opts != nil && isDryRun(opts.DryRun))
	if err != nil {
		return nil, err
	}
	return out, nil
}

// maxUpdateAttempts bounds the retries of an update that lost a race with
// another writer between its read and its append.
const maxUpdateAttempts = 8

// conflict is kube-apiserver's error for a stale resourceVersion.
func (r *resource) conflict(name string) error {
	return apierrors.NewConflict(r.groupResource(), name,
		fmt.Errorf("the object has been modified; please apply your changes to the latest version and try again"))
}

func (r *resource) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, opts *metav1.UpdateOptions) (runtime.Object, bool, error) {
	return r.update(ctx, name, objInfo, createValidation, updateValidation, forceAllowCreate, opts, api.VerbUpdate)
}

func (r *resource) update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc,
	updateValidation rest.ValidateObjectUpdateFunc, forceAllowCreate bool, opts *metav1.UpdateOptions, verb string) (runtime.Object, bool, error) {
	ctx = withNamespace(ctx)
	dryRun := opts != nil && isDryRun(opts.DryRun)
	for attempt := 0; ; attempt++ {
		old, err := r.Get(ctx, name, &metav1.GetOptions{})
		if apierrors.IsNotFound(err) && verb == api.VerbUpdate && (forceAllowCreate || r.strat.AllowCreateOnUpdate(ctx)) {
			obj, err := objInfo.UpdatedObject(ctx, nil)
			if err != nil {
				return nil, false, err
			}
			created, err := r.Create(ctx, obj, createValidation, &metav1.CreateOptions{DryRun: dryRunList(dryRun)})
			return created, err == nil, err
		}
		if err != nil {
			return nil, false, err
		}
		obj, err := objInfo.UpdatedObject(ctx, old)
		if err != nil {
			return nil, false, err
		}
		m, err := meta.Accessor(obj)
		if err != nil {
			return nil, false, apierrors.NewInternalError(err)
		}
		om, err := meta.Accessor(old)
		if err != nil {
			return nil, false, apierrors.NewInternalError(err)
		}
		switch rv := m.GetResourceVersion(); {
		case rv == "":
			// As registry.Store: no resourceVersion means "whatever is
			// stored" (helm PUTs its release Secrets this way).
			m.SetResourceVersion(om.GetResourceVersion())
		case rv != om.GetResourceVersion():
			return nil, false, r.conflict(name)
		}
		if err := rest.BeforeUpdate(r.strat, ctx, obj, old); err != nil {
			return nil, false, err
		}
		if updateValidation != nil {
			if err := updateValidation(ctx, obj.DeepCopyObject(), old.DeepCopyObject()); err != nil {
				return nil, false, err
			}
		}
		out, _, err := r.write(ctx, verb, obj, dryRun)
		// The object changed between the read and the append: start over
		// from the new state, as etcd's GuaranteedUpdate does. A patch is
		// applied again to it; a PUT from a now stale resourceVersion
		// fails above with the conflict.
		if apierrors.IsConflict(err) && attempt < maxUpdateAttempts {
			continue
		}
		if err != nil {
			return nil, false, err
		}
		return out, false, nil
	}
}

func dryRunList(dryRun bool) []string {
	if dryRun {
		return []string{metav1.DryRunAll}
	}
	return nil
}

func (r *resource) Delete(ctx context.Context, name string, deleteValidation rest.ValidateObjectFunc, opts *metav1.DeleteOptions) (runtime.Object, bool, error) {
	ctx = withNamespace(ctx)
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	cur, err := r.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, false, err
	}
	req := &api.Request{Resource: r.k.Resource, Namespace: genericapirequest.NamespaceValue(ctx), Name: name,
		DryRun: isDryRun(opts.DryRun), Params: map[string]string{}}
	if p := opts.Preconditions; p != nil {
		if p.UID != nil {
			if m, _ := meta.Accessor(cur); m != nil && m.GetUID() != *p.UID {
				return nil, false, apierrors.NewConflict(r.groupResource(), name,
					fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
			}
		}
		if p.ResourceVersion != nil {
			req.ResourceVersion = *p.ResourceVersion
		}
	}
	if deleteValidation != nil {
		if err := deleteValidation(ctx, cur.DeepCopyObject()); err != nil {
			return nil, false, err
		}
	}
	switch {
	case opts.PropagationPolicy != nil:
		req.Params["propagation"] = strings.ToLower(string(*opts.PropagationPolicy))
	case opts.OrphanDependents != nil && *opts.OrphanDependents:
		req.Params["propagation"] = string(events.PropagationOrphan)
	}
	if g := opts.GracePeriodSeconds; g != nil {
		if *g < 0 {
			return nil, false, apierrors.NewBadRequest(fmt.Sprintf("gracePeriodSeconds %d: must be >= 0", *g))
		}
		req.Params["grace"] = strconv.FormatInt(*g, 10)
		if *g == 0 {
			req.Params["force"] = "true"
		}
	}
	resp, err := r.core.Do(ctx, api.VerbDelete, caller(ctx), req)
	if err != nil {
		return nil, false, err
	}
	out, err := r.decode(resp.Object)
	if err != nil {
		return nil, false, err
	}
	return out, resp.Outcome == string(events.Deleted), nil
}

func (r *resource) DeleteCollection(ctx context.Context, deleteValidation rest.ValidateObjectFunc, opts *metav1.DeleteOptions,
	listOpts *metainternalversion.ListOptions) (runtime.Object, error) {
	listed, err := r.List(ctx, listOpts)
	if err != nil {
		return nil, err
	}
	items, err := meta.ExtractList(listed)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	var deleted []runtime.Object
	for _, it := range items {
		m, err := meta.Accessor(it)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		nctx := genericapirequest.WithNamespace(ctx, m.GetNamespace())
		o, _, err := r.Delete(nctx, m.GetName(), deleteValidation, opts.DeepCopy())
		if apierrors.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		deleted = append(deleted, o)
	}
	out := r.NewList()
	if err := meta.SetList(out, deleted); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	return out, nil
}
