// Package history keeps the revisions of a workload's pod template as
// ControllerRevisions (apps/v1), the way Kubernetes' DaemonSet and
// StatefulSet controllers do, so that `kubectl rollout history|undo` and
// `strom rollout history|undo` work on them.
//
// A revision's Data is a strategic-merge patch that replaces the parent's
// pod template: {"spec":{"template":{...,"$patch":"replace"}}}. Its name
// is <parent>-<hash>, where the hash covers the data and the parent's
// collisionCount; its label controller-revision-hash holds the hash.
//
// Everything here is pure (revisions in, plan out) except Create, which
// writes one revision and reports a name collision so the caller can bump
// its collisionCount and try again.
package history
