package events

import (
	"errors"
	"fmt"
)

// Reason classifies an error the way a client needs to act on it.
type Reason string

// Error reasons. They cross the wire as strings: add, never rename.
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

// Error is a classified error. Message is complete and meant for users.
type Error struct {
	Reason  Reason
	Message string
	Err     error // underlying cause, if any
}

func (e *Error) Error() string { return e.Message }
func (e *Error) Unwrap() error { return e.Err }

// Errorf builds a classified error.
func Errorf(r Reason, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Reason: r, Message: err.Error(), Err: errors.Unwrap(err)}
}

// ReasonOf returns the reason of the first classified error in err's chain,
// or Internal.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
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
