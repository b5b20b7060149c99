// Package job is the pure core of Strom's Job controller (batch/v1): given
// a Job, the pods it owns and the time, Plan says which pods to create
// (names, completion indexes), which to delete, which pods' tracking
// finalizers to remove, what the Job's status is, whether the Job itself
// is due for deletion (ttlSecondsAfterFinished) and when to plan again. It
// does no I/O and keeps no state; the shell (reconcilers/jobctl) reads the
// projections, calls Plan and writes the results in order: status first,
// then finalizer removals, then pod creations and deletions.
//
// Plan follows Kubernetes' Job controller. A pod's outcome is counted in
// two steps, so that it is counted exactly once even if the pod goes away:
// a finished pod carrying the batch.kubernetes.io/job-tracking finalizer
// is first recorded by uid in status.uncountedTerminatedPods (the status
// write), its finalizer is then removed, and the next Plan moves the uid
// from the uncounted lists to status.succeeded or status.failed. Pods
// without the finalizer are already counted; finished pods are kept (for
// logs). Decisions use the totals including uncounted pods.
//
// A Job ends in two steps as well: a FailureTarget or SuccessCriteriaMet
// condition first (active pods are then deleted), and Failed or Complete
// once no pod is running or waiting to be counted. Retries after failures
// wait an exponential back-off (10 s, 20 s, ... at most 6 min) computed
// from the failed pods' finish times, returned as RequeueAfter.
package job
