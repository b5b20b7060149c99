// Package replicasetctl is the ReplicaSet controller: the shell around the
// pure reconcilers/replicaset planner. For one ReplicaSet it reads the pods
// that could be its own (selected by labels, or owned by uid), plans,
// writes the creations, deletions, adoptions, releases and status, and
// waits until the Store has applied its writes before the key can be
// planned again: the planner keeps no "expectations", so reading its own
// writes is what keeps it from creating a pod twice.
package replicasetctl
