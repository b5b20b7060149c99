package events

import (
	"context"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events/objects"
)

// Propagation is a deletion propagation policy, as in Kubernetes.
type Propagation string

// Deletion propagation policies.
const (
	PropagationBackground Propagation = "background" // the default: delete now, dependents after (gc)
	PropagationForeground Propagation = "foreground" // dependents first: finalizer foregroundDeletion + mark deleting
	PropagationOrphan     Propagation = "orphan"     // finalizer orphan + mark deleting; gc drops owner refs
)

// DeleteOptions say how to delete, as Kubernetes' DeleteOptions do.
type DeleteOptions struct {
	Precondition string      // resourceVersion that must match, if not ""
	Propagation  Propagation // "" is background
	GracePeriod  *int64      // pods: seconds of graceful termination; nil: the pod's terminationGracePeriodSeconds
	Now          bool        // remove at once: a node finishing its pod's deletion, a forced delete, a finalizer holder (gc, namespace controller) finishing
}

// deleteRule is the way Delete deletes one object.
type deleteRule int

const (
	ruleRemove    deleteRule = iota // a Deleted event at once
	ruleTerminate                   // a Namespace: marked deleting, status.phase Terminating
	ruleFinalize                    // the propagation policy's finalizer added, marked deleting
	ruleGraceful                    // a pod on a node: marked deleting with its grace period
	ruleHold                        // a pod a Job still has to count: marked deleted (grace 0), removed when its finalizer goes
)

func (r deleteRule) String() string {
	switch r {
	case ruleTerminate:
		return "terminate"
	case ruleFinalize:
		return "finalize"
	case ruleGraceful:
		return "graceful"
	case ruleHold:
		return "hold"
	}
	return "remove"
}

// chooseDelete picks how to delete cur, the stored object of kind k. As
// the API always did, a Pod ignores the propagation policy (pods have no
// dependents Strom tracks): a pod bound to a node is deleted gracefully,
// its node finishing, and an unbound pod goes at once.
//
// A pod carrying the Job controller's tracking finalizer is never removed
// before the controller has counted it: where it would be removed (at
// once, or by its node finishing) it is held, marked deleting with grace
// 0, and the update that drops the finalizer removes it (holdsForJob).
func chooseDelete(k *objects.Kind, cur objects.Object, d DeleteOptions) deleteRule {
	if pod, ok := cur.(*corev1.Pod); ok && hasFinalizer(cur, batchv1.JobTrackingFinalizer) && (d.Now || pod.Spec.NodeName == "") {
		return ruleHold
	}
	switch {
	case d.Now:
		return ruleRemove
	case k.Kind == "Namespace":
		return ruleTerminate
	case k.Kind == "Pod":
		if pod, ok := cur.(*corev1.Pod); ok && pod.Spec.NodeName != "" {
			return ruleGraceful
		}
		return ruleRemove
	case d.Propagation == PropagationForeground || d.Propagation == PropagationOrphan:
		return ruleFinalize
	}
	return ruleRemove
}

// Delete deletes with Kubernetes' rules (chooseDelete): Now -> a Deleted
// event at once; a Namespace -> marked deleting (deletionTimestamp) and
// status.phase Terminating (idempotent: calling it again on a deleting
// namespace makes sure it is Terminating; the namespace controller
// finishes with Now); a Pod bound to a node -> marked deleting with the
// grace period (the node finishes with Now); Foreground/Orphan -> the
// policy's finalizer added and the object marked deleting (gc finishes);
// everything else -> a Deleted event. Marking is one Updated event (or
// none when the object is already so marked). Outcome is Deleted in every
// case (even when only marked). DryRun computes and appends nothing. A
// Service's allocation claims are released when its Deleted event is
// appended (the admissions see every removal). The precondition, if set,
// is checked whatever the rule.
func (w *Writer) Delete(ctx context.Context, k *objects.Kind, ns, name string, d DeleteOptions, o WriteOptions) (*Result, error) {
	if o.Actor == "" {
		return nil, Errorf(ReasonBadRequest, "write without an actor")
	}
	switch d.Propagation {
	case "", PropagationBackground, PropagationForeground, PropagationOrphan:
	default:
		return nil, Errorf(ReasonBadRequest, "propagation %q: want background, foreground or orphan", d.Propagation)
	}
	if d.GracePeriod != nil && *d.GracePeriod < 0 {
		return nil, Errorf(ReasonBadRequest, "grace period %d: want a whole number of seconds >= 0", *d.GracePeriod)
	}
	ns = scope(k, ns)
	res, err := w.retry(d.Precondition, func(int) (*Result, error) {
		cur, err := w.read(ctx, k, ns, name)
		if err != nil {
			return nil, err
		}
		if !cur.exists() {
			return nil, notFound(k, name)
		}
		if err := precondition(k, name, d.Precondition, cur); err != nil {
			return nil, err
		}
		switch chooseDelete(k, cur.obj, d) {
		case ruleTerminate:
			return w.markAttempt(ctx, k, cur, mark{terminating: true}, o)
		case ruleFinalize:
			fin := metav1.FinalizerDeleteDependents
			if d.Propagation == PropagationOrphan {
				fin = metav1.FinalizerOrphanDependents
			}
			return w.markAttempt(ctx, k, cur, mark{finalizer: fin}, o)
		case ruleGraceful:
			grace := d.GracePeriod
			if grace == nil {
				grace = cur.obj.(*corev1.Pod).Spec.TerminationGracePeriodSeconds
			}
			return w.markAttempt(ctx, k, cur, mark{grace: grace}, o)
		case ruleHold:
			return w.markAttempt(ctx, k, cur, mark{grace: new(int64), final: true}, o)
		}
		return w.removeAttempt(ctx, k, cur, o)
	})
	if err != nil {
		return nil, err
	}
	res.Outcome = Deleted
	return res, nil
}

// removeAttempt appends the Deleted event carrying the object's last
// state, with deletionTimestamp set; the admissions see the removal.
func (w *Writer) removeAttempt(ctx context.Context, k *objects.Kind, cur *current, o WriteOptions) (*Result, error) {
	final := deepCopy(cur.obj)
	if final.GetDeletionTimestamp() == nil {
		now := metav1.NewTime(w.clock.Now().UTC().Truncate(time.Second))
		final.SetDeletionTimestamp(&now)
	}
	done, err := w.admit(ctx, k, nil, cur.obj, o.DryRun)
	if err != nil {
		return nil, err
	}
	res, err := w.append(ctx, k, final, TypeDeleted, cur.seq, o)
	done(res, err)
	return res, err
}

// mark is what marking an object deleting sets besides deletionTimestamp.
type mark struct {
	grace       *int64 // deletionGracePeriodSeconds, when the mark is new
	finalizer   string // added if missing
	terminating bool   // a Namespace's status.phase Terminating
	final       bool   // the grace period is over: deletionGracePeriodSeconds 0 even if marked before
}

// markAttempt marks cur deleting in one event: deletionTimestamp (and
// the grace period) unless already set, the finalizer unless present,
// the Terminating phase unless set. Nothing to change is Unchanged.
func (w *Writer) markAttempt(ctx context.Context, k *objects.Kind, cur *current, mk mark, o WriteOptions) (*Result, error) {
	next := deepCopy(cur.obj)
	var typ Type
	if next.GetDeletionTimestamp() == nil {
		now := metav1.NewTime(w.clock.Now().UTC().Truncate(time.Second))
		next.SetDeletionTimestamp(&now)
		next.SetDeletionGracePeriodSeconds(mk.grace)
		typ = TypeUpdated
	}
	if g := next.GetDeletionGracePeriodSeconds(); mk.final && (g == nil || *g != 0) {
		next.SetDeletionGracePeriodSeconds(new(int64))
		typ = TypeUpdated
	}
	if mk.finalizer != "" && !hasFinalizer(next, mk.finalizer) {
		next.SetFinalizers(append(next.GetFinalizers(), mk.finalizer))
		typ = TypeUpdated
	}
	if ns, ok := next.(*corev1.Namespace); ok && mk.terminating && ns.Status.Phase != corev1.NamespaceTerminating {
		ns.Status.Phase = corev1.NamespaceTerminating
		if typ == "" {
			typ = TypeStatusUpdated
		}
	}
	if typ == "" {
		return &Result{Outcome: Unchanged, Object: cur.obj, Seq: cur.seq}, nil
	}
	return w.append(ctx, k, next, typ, cur.seq, o)
}

// releasesHeld reports whether an update of cur to next removes a held
// pod (ruleHold): cur is deleting with its grace period over (or was
// never bound) and next drops the last finalizer.
func releasesHeld(cur, next objects.Object) bool {
	pod, ok := cur.(*corev1.Pod)
	if !ok || pod.DeletionTimestamp == nil || len(next.GetFinalizers()) > 0 || len(pod.Finalizers) == 0 {
		return false
	}
	g := pod.DeletionGracePeriodSeconds
	return pod.Spec.NodeName == "" || (g != nil && *g == 0)
}

func hasFinalizer(obj objects.Object, fin string) bool {
	for _, f := range obj.GetFinalizers() {
		if f == fin {
			return true
		}
	}
	return false
}

// MarkDeleting only marks an object deleting: deletionTimestamp (and
// deletionGracePeriodSeconds when grace is not nil) with an Updated
// event; an object already deleting is Unchanged. It is the step Delete
// takes for a graceful deletion, without Delete's choice of rule: callers
// delete with Delete. Tests use it to reach states Delete's rules do not
// produce directly (an unbound pod being deleted, a deleting namespace
// not yet Terminating).
func (w *Writer) MarkDeleting(ctx context.Context, k *objects.Kind, ns, name string, grace *int64, o WriteOptions) (*Result, error) {
	if o.Actor == "" {
		return nil, Errorf(ReasonBadRequest, "write without an actor")
	}
	ns = scope(k, ns)
	return w.retry("", func(int) (*Result, error) {
		cur, err := w.read(ctx, k, ns, name)
		if err != nil {
			return nil, err
		}
		if !cur.exists() {
			return nil, notFound(k, name)
		}
		return w.markAttempt(ctx, k, cur, mark{grace: grace}, o)
	})
}
