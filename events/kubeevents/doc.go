// Package kubeevents records Kubernetes Events (corev1.Event objects, the
// "events" resource that kubectl describe shows) about other objects. They
// are objects like any other, written through the API; they are not the
// log's events (package events).
//
// Events are de-duplicated as kubelet does: a repeat of the same reason
// and message about the same object bumps count and lastTimestamp of one
// Event instead of creating another.
package kubeevents
