package events

import (
	"context"
	"errors"

	"github.com/strom-project/strom/events/objects"
)

// An Admission is a rule the write path applies to every write of the
// kinds it handles, whoever writes: a user through the API, a
// controller, the garbage collector. The Service allocator
// (events/alloc) is one: it fills in ClusterIPs and NodePorts on a
// Service's writes and releases them on its removal.
type Admission interface {
	// Admits says whether the admission handles writes of kind k; the
	// write path calls Admit only for those (so a write of any other kind
	// costs nothing, not even a copy of the object).
	Admits(k *objects.Kind) bool
	// Admit runs inside the write path's read-modify-append loop, after
	// the current state is read and before the change is computed, once
	// per attempt.
	//
	// obj is the incoming object of a create, update or apply (never of a
	// status write), defaulted and validated, and may be changed (e.g. a
	// ClusterIP filled in); what Admit sets is not validated again, so it
	// must be valid. Each attempt gets a fresh copy of the incoming
	// object. For a removal (a Deleted event) obj is nil. cur is the
	// stored object, or nil when there is none. On a dry run nothing may
	// be claimed for good.
	//
	// The returned done, if not nil, is called once with the attempt's
	// outcome: a nil error means the event was appended or nothing
	// changed (res is the stored state); a non-nil error means the
	// attempt failed or is retried, so what Admit claimed must be undone.
	// An error from Admit refuses the write; the admissions that ran
	// before it are told with their done.
	Admit(ctx context.Context, k *objects.Kind, obj, cur objects.Object, dryRun bool) (done func(res *Result, err error), err error)
}

// admit runs every admission on one attempt and returns one done that
// tells them all.
func (w *Writer) admit(ctx context.Context, k *objects.Kind, obj, cur objects.Object, dryRun bool) (func(*Result, error), error) {
	var dones []func(*Result, error)
	all := func(res *Result, err error) {
		for _, d := range dones {
			d(res, err)
		}
	}
	for _, a := range w.admission {
		if !a.Admits(k) {
			continue
		}
		d, err := a.Admit(ctx, k, obj, cur, dryRun)
		if err != nil {
			all(nil, err)
			return nil, err
		}
		if d != nil {
			dones = append(dones, d)
		}
	}
	return all, nil
}

// errStale says an attempt decided on the live view alone (unchanged, or
// a refusal) and must be redone from the log, which decides.
var errStale = errors.New("decided on the view: confirm from the log")

// retry runs attempt until it neither is stale nor conflicts, at most
// w.retries times more after a conflict. A conflict is retried only
// without a precondition: a client that named a resourceVersion is told.
// Every read-modify-append loop of the write path uses it.
func (w *Writer) retry(precondition string, attempt func(n int) (*Result, error)) (*Result, error) {
	for n := 0; ; n++ {
		res, err := attempt(n)
		if errors.Is(err, errStale) {
			continue // only the first attempt reads the view
		}
		if IsConflict(err) && precondition == "" && n < w.retries {
			continue // someone wrote in between: redo the read-modify-write
		}
		return res, err
	}
}

// admits says whether any admission handles kind k.
func (w *Writer) admits(k *objects.Kind) bool {
	for _, a := range w.admission {
		if a.Admits(k) {
			return true
		}
	}
	return false
}

type warningsKey struct{}

// WithAdmissionWarnings gives admissions a place for their warnings: the
// write path makes one per attempt (and tests of an admission their own).
func WithAdmissionWarnings(ctx context.Context, into *[]string) context.Context {
	return context.WithValue(ctx, warningsKey{}, into)
}

// AdmissionWarning adds a warning to the write an admission is deciding
// (Pod Security's warn mode): the client shows it, as kubectl shows
// kube-apiserver's Warning headers. Outside an admission it does nothing.
func AdmissionWarning(ctx context.Context, msg string) {
	if into, ok := ctx.Value(warningsKey{}).(*[]string); ok {
		*into = append(*into, msg)
	}
}
