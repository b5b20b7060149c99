// Package statefulset is the pure core of Strom's StatefulSet controller,
// with Kubernetes' semantics (pkg/controller/statefulset): given a
// StatefulSet, the pods it controls, the claims that exist and its current
// and update revisions, Plan says which claims and pods to create, which
// pods to delete and what the status is.
//
// Each ordinal in [ordinals.start, ordinals.start+replicas) has one pod
// named <set>-<ordinal> with hostname <pod> and subdomain serviceName, and
// one claim per volumeClaimTemplate named <template>-<set>-<ordinal>,
// created before the pod and kept when the pod goes. Under OrderedReady
// pods are created one at a time from the lowest ordinal, each waiting
// for the previous ones to be Running, Ready and available, and removed
// one at a time from the highest; Parallel does both at once. Failed and
// Succeeded pods are deleted and come back under the same name.
//
// A RollingUpdate replaces pods from the highest ordinal down to the
// partition, one at a time, each waiting for the replaced one to be
// healthy (with maxUnavailable, as many at once as keep that many
// unavailable); OnDelete only gives pods that are deleted the new
// template. Pods carry their revision's name in controller-revision-hash;
// status.currentRevision becomes the update revision once a rolling
// update has every replica updated and ready.
//
// Claims are owned as persistentVolumeClaimRetentionPolicy says:
// whenDeleted Delete gives them an owner reference to the set;
// whenScaled Delete gives a scaled-away pod's claims one to the pod
// before it goes, so the garbage collector removes them with it.
// Nothing here reads a clock or writes: time is an input, the plan is
// the output.
package statefulset
