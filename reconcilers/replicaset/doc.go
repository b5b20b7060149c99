// Package replicaset is the pure core of Strom's ReplicaSet controller:
// given a ReplicaSet, every pod in its namespace and the time, Plan says
// which pods to create, delete, adopt and release, and what the
// ReplicaSet's status is. It does no I/O and keeps no state; the shell
// reads the projections, calls Plan, and writes the results.
//
// Plan follows Kubernetes' ReplicaSet controller: it claims pods (adopts
// matching orphans, releases owned pods that no longer match), counts the
// active ones (not Succeeded, Failed or terminating), creates pods from the
// template or deletes the least valuable pods (see ranking.go), and computes
// the status, with availability honouring minReadySeconds. It has no
// "expectations": the shell must make sure Plan sees its own earlier
// writes (or wait for them) before planning again, or it may create twice.
package replicaset
