// Package daemonsetctl is the I/O shell of Strom's DaemonSet controller.
// On every change of a DaemonSet, of any Node, or of a pod or revision
// the set controls, it reads the set, the nodes and the set's pods from
// the Store, makes sure a ControllerRevision (reconcilers/history) holds
// the set's template (bumping status.collisionCount on a hash
// collision), asks reconcilers/daemonset for a plan and writes it as the
// controller: pod creations and deletions (with SuccessfulCreate and
// SuccessfulDelete Events), the status, and the pruning of revisions
// beyond revisionHistoryLimit. Every write carries the manager's cause,
// so strom trace explains it.
package daemonsetctl
