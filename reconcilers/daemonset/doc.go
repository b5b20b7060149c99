// Package daemonset is the pure core of Strom's DaemonSet controller, with
// Kubernetes' semantics (pkg/controller/daemon): given a DaemonSet, every
// Node, the pods the set controls and the hash of its current revision,
// Plan says which pods to create (one per eligible node), which to delete
// (on nodes that left or stopped matching, duplicates, failed pods, and
// old pods a rolling update replaces) and what the status is.
//
// A node is eligible when the template's nodeSelector and required node
// affinity match it and its taints are tolerated by the template's
// tolerations plus those Kubernetes adds to every daemon pod (Tolerations).
// A pod already on a node whose only untolerated taints are NoSchedule
// keeps running there (counted misscheduled); an untolerated NoExecute
// taint removes it.
//
// Pods are not bound: each carries a required node affinity on
// metadata.name of its node (replacing the template's required terms,
// which the controller has already checked), so that the scheduler places
// it and accounts its resources.
//
// Rolling updates follow Kubernetes: without surge, old pods are deleted
// while fewer than maxUnavailable of the desired pods are unavailable and
// the manage step recreates them; with maxSurge, a new pod starts beside
// the old one (up to maxSurge at a time) and the old one goes when the new
// one is available. Nothing here reads a clock or writes: time is an
// input, the plan is the output.
package daemonset
