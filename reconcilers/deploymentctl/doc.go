// Package deploymentctl is the Deployment controller: the shell around the
// pure reconcilers/deployment planner. For one Deployment it reads the
// ReplicaSets it owns and, for Recreate, how many pods each still runs
// (terminating ones included), plans one rollout step, writes the new,
// scaled and deleted ReplicaSets, the revision annotations and the
// status, records ScalingReplicaSet Events, and waits until the Store has
// applied its writes before the key can be planned again.
package deploymentctl
