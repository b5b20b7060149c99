// Package statefulsetctl is the I/O shell of Strom's StatefulSet
// controller. On every change of a StatefulSet, or of a pod or revision
// the set controls, it reads the set, its pods and claims from the Store,
// makes sure a ControllerRevision (reconcilers/history) holds the set's
// template (the update revision; status.currentRevision names the
// current one), asks reconcilers/statefulset for a plan and writes it as
// the controller: claims before pods, pod creations and deletions (with
// Kubernetes' SuccessfulCreate and SuccessfulDelete Events), the status,
// and the pruning of revisions beyond revisionHistoryLimit. Every write
// carries the manager's cause, so strom trace explains it.
package statefulsetctl
