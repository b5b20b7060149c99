package events

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strom-project/strom/events/objects"
)

// The constructors below build the errors of the write and read paths
// with apimachinery's own constructors, so message, reason, code and
// details are kube-apiserver's byte for byte: a kubectl user sees the same
// `deployments.apps "web" not found` from Strom as from Kubernetes.

// optimisticLockMsg is kube-apiserver's message for a lost
// compare-and-swap (k8s.io/apiserver/pkg/registry/generic/registry).
const optimisticLockMsg = "the object has been modified; please apply your changes to the latest version and try again"

func groupResource(k *objects.Kind) schema.GroupResource {
	return schema.GroupResource{Group: k.Group, Resource: k.Resource}
}

// fromStatus wraps an apimachinery StatusError as a classified Error.
func fromStatus(se *apierrors.StatusError, cause error) *Error {
	st := se.Status()
	return &Error{Reason: reasonFor(st.Reason), Message: st.Message, Details: st.Details, Err: cause}
}

// FromStatus classifies a metav1.Status an apimachinery-based library
// answered with (an admission's refusal), keeping its message and details.
func FromStatus(st *metav1.Status) *Error {
	return fromStatus(&apierrors.StatusError{ErrStatus: *st}, nil)
}

// NewNotFound is `<resource>.<group> "<name>" not found`.
func NewNotFound(k *objects.Kind, name string) *Error {
	return fromStatus(apierrors.NewNotFound(groupResource(k), name), nil)
}

// NewAlreadyExists is `<resource>.<group> "<name>" already exists`.
func NewAlreadyExists(k *objects.Kind, name string) *Error {
	return fromStatus(apierrors.NewAlreadyExists(groupResource(k), name), nil)
}

// NewConflict is `Operation cannot be fulfilled on <resource>.<group>
// "<name>": <detail>`; an empty detail is the optimistic-lock message
// kube-apiserver sends for a stale resourceVersion. cause, if any, is kept
// in the chain (e.g. the log's wrong-last-sequence error).
func NewConflict(k *objects.Kind, name, detail string, cause error) *Error {
	if detail == "" {
		detail = optimisticLockMsg
	}
	return fromStatus(apierrors.NewConflict(groupResource(k), name, errors.New(detail)), cause)
}

// NewInvalid is `<Kind>.<group> "<name>" is invalid: <field errors>`, with
// one status cause per field error.
func NewInvalid(k *objects.Kind, name string, errs field.ErrorList) *Error {
	return fromStatus(apierrors.NewInvalid(schema.GroupKind{Group: k.Group, Kind: k.Kind}, name, errs), nil)
}

// NewForbidden is `<resource>.<group> "<name>" is forbidden: <reason>`.
func NewForbidden(k *objects.Kind, name string, reason error) *Error {
	return fromStatus(apierrors.NewForbidden(groupResource(k), name, reason), nil)
}

// newNamespaceTerminating is the refusal of kube-apiserver's
// NamespaceLifecycle admission for a creation in a namespace being deleted,
// with its NamespaceTerminating cause.
func newNamespaceTerminating(k *objects.Kind, name, ns string) *Error {
	e := NewForbidden(k, name, fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
	e.Details.Causes = append(e.Details.Causes, metav1.StatusCause{
		Type:    corev1.NamespaceTerminatingCause,
		Message: fmt.Sprintf("namespace %s is being terminated", ns),
		Field:   "metadata.namespace",
	})
	return e
}
