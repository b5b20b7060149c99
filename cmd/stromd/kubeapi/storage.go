package kubeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/strom-project/strom/cmd/stromd/apiserver"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// resource is the rest.Storage of one kind: every verb is a call of the
// API core (the same one the NATS API serves), so writes go through the
// one write path and reads come from the projections.
type resource struct {
	k      *objects.Kind
	core   *apiserver.Core
	scheme *runtime.Scheme
	strat  *strategy
	table  tableConvertor
}

var (
	_ rest.StandardStorage      = (*resource)(nil)
	_ rest.Scoper               = (*resource)(nil)
	_ rest.ShortNamesProvider   = (*resource)(nil)
	_ rest.CategoriesProvider   = (*resource)(nil)
	_ rest.SingularNameProvider = (*resource)(nil)
)

func newResource(k *objects.Kind, core *apiserver.Core, scheme *runtime.Scheme) *resource {
	return &resource{k: k, core: core, scheme: scheme, strat: newStrategy(k, scheme), table: tableConvertor{k: k}}
}

func (r *resource) New() runtime.Object { return r.k.New() }

func (r *resource) NewList() runtime.Object {
	l, err := r.scheme.New(r.k.GVK().GroupVersion().WithKind(r.k.Kind + "List"))
	if err != nil {
		panic(fmt.Sprintf("kubeapi: no list type for %s: %v", r.k.Kind, err))
	}
	return l
}

func (r *resource) Destroy()              {}
func (r *resource) NamespaceScoped() bool { return r.k.Namespaced }
func (r *resource) GetSingularName() string {
	return r.k.Singular
}
func (r *resource) ShortNames() []string { return append([]string(nil), r.k.ShortNames...) }

// allCategory is kube-apiserver's "all" category: what `kubectl get all`
// lists.
var allCategory = map[string]bool{
	"pods": true, "replicationcontrollers": true, "services": true, "daemonsets": true, "deployments": true,
	"replicasets": true, "statefulsets": true, "horizontalpodautoscalers": true, "cronjobs": true, "jobs": true,
}

func (r *resource) Categories() []string {
	if allCategory[r.k.Resource] {
		return []string{"all"}
	}
	return nil
}

func (r *resource) ConvertToTable(ctx context.Context, obj runtime.Object, opts runtime.Object) (*metav1.Table, error) {
	return r.table.ConvertToTable(ctx, obj, opts)
}

// caller is the authenticated user, the events' actor.
func caller(ctx context.Context) apiserver.Caller {
	if u, ok := genericapirequest.UserFrom(ctx); ok {
		return apiserver.Caller{User: u.GetName()}
	}
	return apiserver.Caller{User: "system:anonymous"}
}

// decode turns the core's JSON into a typed object.
func (r *resource) decode(data []byte) (objects.Object, error) {
	obj := r.k.New()
	if err := json.Unmarshal(data, obj); err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("decoding stored %s: %w", r.k.Kind, err))
	}
	obj.GetObjectKind().SetGroupVersionKind(r.k.GVK())
	return obj, nil
}

func (r *resource) Get(ctx context.Context, name string, opts *metav1.GetOptions) (runtime.Object, error) {
	req := &api.Request{Resource: r.k.Resource, Namespace: genericapirequest.NamespaceValue(ctx), Name: name}
	if opts != nil {
		if _, err := readPoint(req, opts.ResourceVersion, ""); err != nil {
			return nil, err
		}
	}
	resp, err := r.core.Do(ctx, api.VerbGet, caller(ctx), req)
	if err != nil {
		return nil, err
	}
	return r.decode(resp.Object)
}

// readPoint maps Kubernetes' resourceVersion semantics on reads onto the
// core's: "" is the latest (consistent) view and "0" any recent one; N is
// "not older than N" unless match is Exact, which reads the cluster as it
// was at N — from history, for any N the log still holds (time travel for
// every Kubernetes client). It returns that N for Exact, else 0, and sets
// "not older than" on req itself.
func readPoint(req *api.Request, rv string, match metav1.ResourceVersionMatch) (exact uint64, err error) {
	if rv == "" || rv == "0" {
		if match == metav1.ResourceVersionMatchExact {
			return 0, apierrors.NewBadRequest(`resourceVersionMatch "Exact" is forbidden for resourceVersion "` + rv + `"`)
		}
		return 0, nil
	}
	seq, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", rv))
	}
	switch match {
	case metav1.ResourceVersionMatchExact:
		return seq, nil
	case "", metav1.ResourceVersionMatchNotOlderThan:
		req.MinSeq = seq
		return 0, nil
	default:
		return 0, apierrors.NewBadRequest(fmt.Sprintf("unknown resourceVersionMatch %q", match))
	}
}

func (r *resource) List(ctx context.Context, opts *metainternalversion.ListOptions) (runtime.Object, error) {
	req := r.listRequest(ctx, opts)
	var at uint64 // a point in history to read at; 0: the latest view
	if opts != nil {
		req.Limit = int(opts.Limit)
		if opts.Continue != "" {
			tok, err := decodeContinue(opts.Continue)
			if err != nil {
				return nil, err
			}
			// A page continues the list it belongs to, read at the same
			// point (from history when the view has moved on).
			req.Continue, at = tok.Key, tok.Seq
		} else {
			var err error
			if at, err = readPoint(req, opts.ResourceVersion, opts.ResourceVersionMatch); err != nil {
				return nil, err
			}
		}
	}
	if at != 0 && at != r.core.LiveSeq() { // else the live view is still at that point
		req.At = strconv.FormatUint(at, 10)
	}
	resp, err := r.core.Do(ctx, api.VerbList, caller(ctx), req)
	if err != nil {
		return nil, err
	}
	return r.listObject(resp)
}

// listRequest is the selection part of a list or watch.
func (r *resource) listRequest(ctx context.Context, opts *metainternalversion.ListOptions) *api.Request {
	ns := genericapirequest.NamespaceValue(ctx)
	req := &api.Request{Resource: r.k.Resource, Namespace: ns, AllNamespaces: r.k.Namespaced && ns == ""}
	if opts != nil {
		if opts.LabelSelector != nil && !opts.LabelSelector.Empty() {
			req.LabelSelector = opts.LabelSelector.String()
		}
		if opts.FieldSelector != nil && !opts.FieldSelector.Empty() {
			req.FieldSelector = opts.FieldSelector.String()
		}
	}
	return req
}

// listObject builds the typed list (FooList) of a core list response.
func (r *resource) listObject(resp *api.Response) (runtime.Object, error) {
	list := r.NewList()
	items := make([]runtime.Object, 0, len(resp.Items))
	for _, raw := range resp.Items {
		o, err := r.decode(raw)
		if err != nil {
			return nil, err
		}
		items = append(items, o)
	}
	if err := meta.SetList(list, items); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	lm.SetResourceVersion(events.ResourceVersion(resp.Seq))
	if resp.Continue != "" {
		lm.SetContinue(encodeContinue(continueToken{Seq: resp.Seq, Key: resp.Continue}))
	}
	return list, nil
}

func (r *resource) groupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.k.Group, Resource: r.k.Resource}
}
