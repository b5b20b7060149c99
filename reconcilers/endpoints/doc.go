// Package endpoints holds the endpoints and endpointslice controllers:
// for every Service with a selector they keep an Endpoints object of the
// same name, and EndpointSlices, listing the pods the selector matches.
//
// Endpoints: ready pods go in addresses, the others in notReadyAddresses
// (all in addresses when the service sets publishNotReadyAddresses). Pods
// being deleted (deletionTimestamp set), finished, or without an IP are
// left out at once. Named targetPorts are resolved per pod; a port name
// no pod has yields no endpoint port and an Event on the Service.
// Services without a selector are left alone, so user-written Endpoints
// stay. The core (Desired) is pure; the reconciler writes only when the
// result differs from the stored Endpoints.
//
// EndpointSlices follow Kubernetes' endpointslice controller: IPv4
// slices labelled kubernetes.io/service-name and managed by
// endpointslice-controller.k8s.io, owned by the Service, at most 100
// endpoints each, one set per port set the pods resolve; terminating
// pods stay with ready false and terminating true; a pod whose node is
// not registered is left out. Slices are named "<service>-<5 characters>"
// from a hash of the Service's uid, the port set and the slice's index,
// so the same state names the same slices (the write path generates no
// names, and a level-based reconcile finds its slices again). The core
// (DesiredSlices, PlanSlices) is pure; SliceReconciler writes only the
// difference, and touches only the slices it manages.
package endpoints
