// Package nodelifecycle watches node heartbeats and acts on silence, as
// Kubernetes' node lifecycle controller does.
//
// Heartbeats are not in the event log: agents renew a lease in the KV
// bucket events.LeaseBucket. The controller declares that bucket as a KV
// input of the manager (manager.KV), which watches it and keeps, per node,
// when its lease was last renewed; Reconcile only reads it. A node whose lease
// lapses (LeaseDuration, default 40 s) gets Ready=Unknown and the
// node.kubernetes.io/unreachable:NoExecute taint, and a NodeNotReady
// Event; once the taint is EvictionTimeout old (default 5 min) the pods
// bound to the node are deleted for good (the node cannot confirm) unless
// they tolerate the taint, so their controllers recreate them elsewhere.
// When heartbeats resume the node is Ready again and the taint removed.
// A node that keeps renewing its lease but reports Ready=False itself
// (its agent found the container runtime down) is tainted
// node.kubernetes.io/not-ready:NoExecute, its pods evicted the same way
// after EvictionTimeout; the taint goes when it reports Ready again. Its
// Ready condition stays the node's own.
// Pods bound to a Node that no longer exists are deleted for good too.
package nodelifecycle
