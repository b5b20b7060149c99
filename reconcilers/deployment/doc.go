// Package deployment is the pure core of Strom's Deployment controller:
// given a Deployment, the ReplicaSets it owns (with their status filled in
// by the ReplicaSet controller) and the time, Plan returns the actions that
// move the rollout one step forward and the Deployment's new status. It
// does no I/O; the shell reads the projections, calls Plan, and writes the
// ReplicaSets and the status.
//
// It follows Kubernetes' deployment controller step for step:
//
//   - the new ReplicaSet is the one whose pod template equals the
//     Deployment's (ignoring the pod-template-hash label); if there is
//     none it is created, named <deployment>-<hash> where the hash is
//     FNV-32a over the template's JSON and status.collisionCount,
//     rendered with rand.SafeEncodeString;
//   - RollingUpdate scales the new ReplicaSet up while the total of
//     spec.replicas stays within replicas+maxSurge, then scales old ones
//     down (unhealthy replicas first) while available pods stay at least
//     replicas−maxUnavailable (surge rounds up, unavailable down, and both
//     zero means one unavailable);
//   - Recreate scales every old ReplicaSet to 0, waits until their pods
//     are gone, then creates or scales the new one;
//   - a replica count change during a rollout is spread proportionally
//     over the active ReplicaSets, using the desired-replicas and
//     max-replicas annotations;
//   - paused Deployments are scaled but not rolled out;
//   - revisions live in the deployment.kubernetes.io/revision annotation;
//     old ReplicaSets at 0 replicas beyond revisionHistoryLimit are
//     deleted once the rollout is complete;
//   - status counts come from the ReplicaSets' status; the Available
//     condition says whether replicas−maxUnavailable pods are available,
//     and Progressing turns False with reason ProgressDeadlineExceeded
//     when no progress was seen for progressDeadlineSeconds.
//
// TemplateForRevision supports "rollout undo --to-revision".
package deployment
