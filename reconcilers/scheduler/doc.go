// Package scheduler is Strom's pure pod scheduler: given a pod and a view of
// the nodes and the pods bound to them, it picks a node or explains, in
// kube-scheduler's words, why none fits. It does no I/O; the shell that
// watches the log feeds a Cache and writes the binding.
//
// # Filters (a node must pass all, in this order; the first failure is the
// node's reason)
//
//   - cordon: spec.unschedulable blocks unless the pod tolerates the
//     node.kubernetes.io/unschedulable:NoSchedule taint;
//   - readiness: a node whose Ready condition is not True blocks unless the
//     pod tolerates node.kubernetes.io/not-ready:NoSchedule (this is the
//     taint Kubernetes' node lifecycle controller would add);
//   - taints: NoSchedule and NoExecute taints block unless tolerated;
//   - node selector and required node affinity (In, NotIn, Exists,
//     DoesNotExist, Gt, Lt; matchFields on metadata.name);
//   - host ports: same protocol and port on the same host IP (0.0.0.0 or
//     empty conflicts with every IP);
//   - resources: cpu, memory, pod count and any other resource the pod
//     requests, against status.allocatable minus what bound pods request;
//     a pod's request is the sum of its containers, the max with each init
//     container (restartable "sidecar" init containers add up, as in
//     Kubernetes), plus spec.overhead;
//   - required pod anti-affinity, both directions: the pod's own terms
//     against pods already in the topology domain, and existing pods' terms
//     against the pod. Any topologyKey works; kubernetes.io/hostname is
//     checked node-locally (falling back to the node name when the node has
//     no such label), other keys cost a scan of the cluster's pods.
//
// # Scores (0–100 each, weighted sum; see Weights)
//
//   - least allocated: free fraction of cpu and memory after placing the
//     pod, using 100m / 200Mi for containers that request nothing, as
//     Kubernetes does for scoring;
//   - spread: fewer pods of the same controller (ownerReference uid) on
//     the node is better;
//   - preferred node affinity: sum of matching term weights, normalised;
//   - PreferNoSchedule taints the pod does not tolerate: fewer is better.
//
// Equal totals are broken by the FNV-1a hash of pod uid and node name:
// deterministic, yet different pods prefer different nodes.
//
// # Performance
//
// Cache keeps per node the allocatable and requested sums, host ports,
// controller counts and pods with anti-affinity, updated incrementally by
// AddPod, RemovePod, UpdateNode and RemoveNode, so (*Cache).Schedule costs
// O(nodes examined) with small constants. Like kube-scheduler's
// percentageOfNodesToScore it stops filtering once it has found enough
// feasible nodes: all of them below 100 nodes, otherwise
// max(100, n·(50 − n/125)%) with a 5% floor (50% at 100 nodes, 42% at
// 1,000, 10% at 5,000), and the next search starts where the previous one
// stopped so every node gets its turn. Schedule, the one-shot function,
// builds a throwaway Cache and examines every node.
package scheduler
