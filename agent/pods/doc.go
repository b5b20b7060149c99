// Package pods is the node agent's pod worker: it turns the pods bound to the
// node into sandboxes and containers and reports their status.
//
// The shell (package agent) drives a Manager: Sync with the full desired set
// of pods (on start and on every resync), Update and Remove for single
// changes from the feed, Run to start the workers. Each pod has one worker
// goroutine running a level-based loop: it reads the desired pod and what the
// runtime has for it (containers found by their labels: pod UID, container
// name, restart count), decides what to do with the pure function decide
// (create, start or kill containers, or wait out a back-off), does it, and
// writes the pod status through StatusWriter when it changed (computeStatus
// is pure too). Nothing is remembered that the runtime cannot tell again, so
// a new Manager over the same runtime adopts running containers without
// restarting them.
//
// Seams, implemented by the shell:
//   - StatusWriter: UpdatePodStatus, PodTerminated, Event.
//   - ObjectGetter: ConfigMap and Secret reads; a missing object wraps
//     ErrObjectNotFound.
//   - Network: CNI setup/teardown of a pod network namespace; NetworkAdapter
//     adapts *network.Manager.
//
// Volumes are prepared by package agent/volumes, probes and lifecycle hooks
// run by package agent/probes.
//
// Calls into Network are serialised (libcni's CNIConfig is not safe for
// concurrent use). Lock order: Manager.mu and Manager.netMu are never held
// together; no I/O is done under Manager.mu; probeSet.mu guards only its map.
package pods
