package events

import (
	"errors"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Reason classifies an error the way a client needs to act on it.
type Reason string

// Error reasons. They cross the wire as strings: add, never rename. Each
// maps to one metav1.StatusReason (see Error.Status); only Internal is
// spelled differently there (InternalError).
const (
	ReasonNotFound      Reason = "NotFound"
	ReasonAlreadyExists Reason = "AlreadyExists"
	ReasonConflict      Reason = "Conflict"
	ReasonInvalid       Reason = "Invalid"
	ReasonBadRequest    Reason = "BadRequest"
	ReasonForbidden     Reason = "Forbidden"
	ReasonGone          Reason = "Gone" // a point in history no longer kept
	ReasonTimeout       Reason = "Timeout"
	ReasonInternal      Reason = "Internal"
	// ReasonTooManyRequests refuses an eviction that would violate a
	// PodDisruptionBudget (HTTP 429 in Kubernetes); retry later.
	ReasonTooManyRequests Reason = "TooManyRequests"
)

// statusOf maps a reason to Kubernetes' reason and HTTP code, as
// k8s.io/apimachinery/pkg/api/errors assigns them.
var statusOf = map[Reason]struct {
	reason metav1.StatusReason
	code   int32
}{
	ReasonNotFound:        {metav1.StatusReasonNotFound, http.StatusNotFound},
	ReasonAlreadyExists:   {metav1.StatusReasonAlreadyExists, http.StatusConflict},
	ReasonConflict:        {metav1.StatusReasonConflict, http.StatusConflict},
	ReasonInvalid:         {metav1.StatusReasonInvalid, http.StatusUnprocessableEntity},
	ReasonBadRequest:      {metav1.StatusReasonBadRequest, http.StatusBadRequest},
	ReasonForbidden:       {metav1.StatusReasonForbidden, http.StatusForbidden},
	ReasonGone:            {metav1.StatusReasonGone, http.StatusGone},
	ReasonTimeout:         {metav1.StatusReasonTimeout, http.StatusGatewayTimeout},
	ReasonInternal:        {metav1.StatusReasonInternalError, http.StatusInternalServerError},
	ReasonTooManyRequests: {metav1.StatusReasonTooManyRequests, http.StatusTooManyRequests},
}

// Error is a classified error. Message is complete and meant for users.
//
// It is an apimachinery APIStatus: k8s.io/apimachinery/pkg/api/errors'
// IsNotFound, IsConflict, ReasonForError … classify it, on the server and,
// after the wire, in every client, and Status gives the metav1.Status the
// HTTPS API sends.
type Error struct {
	Reason  Reason
	Message string
	// Details names the object and, for Invalid, each field at fault
	// (metav1.StatusDetails, as kube-apiserver fills it); optional.
	Details *metav1.StatusDetails
	Err     error // underlying cause, if any
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Status returns the error as the metav1.Status kube-apiserver would send.
func (e *Error) Status() metav1.Status {
	s, ok := statusOf[e.Reason]
	if !ok {
		s = statusOf[ReasonInternal]
	}
	return metav1.Status{
		Status:  metav1.StatusFailure,
		Message: e.Message,
		Reason:  s.reason,
		Code:    s.code,
		Details: e.Details,
	}
}

var _ apierrors.APIStatus = (*Error)(nil)

// Errorf builds a classified error.
func Errorf(r Reason, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Reason: r, Message: err.Error(), Err: errors.Unwrap(err)}
}

// ReasonOf returns the reason of the first classified error in err's chain,
// or Internal. An apimachinery StatusError counts too.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return reasonFor(st.Status().Reason)
	}
	return ReasonInternal
}

// reasonFor is the Reason of a Kubernetes reason (statusOf inverted), or
// Internal.
func reasonFor(kube metav1.StatusReason) Reason {
	for r, s := range statusOf {
		if s.reason == kube {
			return r
		}
	}
	return ReasonInternal
}

// IsNotFound reports whether err is classified NotFound.
func IsNotFound(err error) bool { return err != nil && ReasonOf(err) == ReasonNotFound }

// IsConflict reports whether err is classified Conflict.
func IsConflict(err error) bool { return err != nil && ReasonOf(err) == ReasonConflict }

// IsAlreadyExists reports whether err is classified AlreadyExists.
func IsAlreadyExists(err error) bool { return err != nil && ReasonOf(err) == ReasonAlreadyExists }

// IsInvalid reports whether err is classified Invalid.
func IsInvalid(err error) bool { return err != nil && ReasonOf(err) == ReasonInvalid }
