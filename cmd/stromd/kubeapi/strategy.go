package kubeapi

import (
	"context"
	"reflect"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/storage/names"

	"github.com/strom-project/strom/events/objects"
)

// strategy is the create and update strategy the generic handlers and
// rest.BeforeCreate/BeforeUpdate call. Defaulting and validation are not
// here: they are Strom's own (events/objects), run by the write path on
// every write whichever front door it came through, and their Invalid
// errors name the field as kube-apiserver's do.
type strategy struct {
	runtime.ObjectTyper
	names.NameGenerator
	k *objects.Kind
}

func newStrategy(k *objects.Kind, typer runtime.ObjectTyper) *strategy {
	return &strategy{ObjectTyper: typer, NameGenerator: names.SimpleNameGenerator, k: k}
}

func (s *strategy) NamespaceScoped() bool { return s.k.Namespaced }

// keepsStatusOnCreate are the kinds whose creator may set status, as in
// Kubernetes (a node registers with its status; Events have none).
var keepsStatusOnCreate = map[string]bool{"Node": true}

// PrepareForCreate drops a status sent with a create, as kube-apiserver's
// strategies do: status is the cluster's to write, through the status
// subresource.
func (s *strategy) PrepareForCreate(_ context.Context, obj runtime.Object) {
	if keepsStatusOnCreate[s.k.Kind] {
		return
	}
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return
	}
	if st := v.Elem().FieldByName("Status"); st.IsValid() && st.CanSet() {
		st.Set(reflect.Zero(st.Type()))
	}
}

func (s *strategy) PrepareForUpdate(context.Context, runtime.Object, runtime.Object) {}

func (s *strategy) Validate(context.Context, runtime.Object) field.ErrorList { return nil }

func (s *strategy) ValidateUpdate(context.Context, runtime.Object, runtime.Object) field.ErrorList {
	return nil
}

func (s *strategy) WarningsOnCreate(context.Context, runtime.Object) []string { return nil }

func (s *strategy) WarningsOnUpdate(context.Context, runtime.Object, runtime.Object) []string {
	return nil
}

func (s *strategy) Canonicalize(runtime.Object) {}

// createsOnUpdate are the kinds a PUT may create, as in Kubernetes.
var createsOnUpdate = map[string]bool{"Endpoints": true, "Lease": true}

func (s *strategy) AllowCreateOnUpdate(context.Context) bool { return createsOnUpdate[s.k.Kind] }

func (s *strategy) AllowUnconditionalUpdate(context.Context) bool { return true }
