// Package schedulerctl is the scheduler controller: the shell around the
// pure reconcilers/scheduler core. It keeps a scheduler.Cache fed from the
// Store's watches (nodes and pods, applied in sequence order, each object
// at most once per version), binds Pending pods by an Update of
// spec.nodeName with the pod's resourceVersion as precondition, and
// records Scheduled and FailedScheduling Events.
//
// Binding is assume-then-write, as kube-scheduler does: the choice is
// added to the cache before the write, under one mutex, so that many
// workers can have bindings in flight while every decision sees every
// earlier one; a failed write forgets the assumption. Pods that fit
// nowhere are remembered and re-queued whenever a node changes or a bound
// pod goes away, so nothing scans every pod per decision.
package schedulerctl
