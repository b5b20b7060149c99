// Package runtime runs a node's pods on containerd.
//
// The pod sync loop talks to the Runtime interface: images (import, pull with
// imagePullPolicy semantics, list, remove), pod sandboxes (a pinned network
// namespace plus per-pod hostname, /etc/hosts and /etc/resolv.conf files that
// are bind-mounted into every container of the pod), and containers (create
// with command, env, limits and mounts; start; stop with a grace period; exit
// status with OOM detection; exec; list by label; remove).
//
// Containerd implements Runtime against a containerd daemon (Go client v1.7,
// daemon 1.6 or later). Everything it needs to find again after an agent
// restart lives in containerd labels (pod UID, namespace, name, container
// name, restart count, log path, start time) and in a small sandbox.json per
// pod under the state directory, so a new instance adopts running pods
// without restarting them. Container output goes to a log file per container
// and restart, written by the containerd shim itself (cio.LogFile), so logs
// survive agent restarts.
//
// Calls for one pod must be serialised by the caller (the per-pod sync
// loop); calls for different pods may run concurrently.
//
// Fake implements Runtime in memory for unit tests of the sync loop.
//
// Networking is not done here: the caller passes Sandbox.NetNSPath to the
// network layer (package agent/network) and reports the pod IP back with
// SetSandboxIP, which adds it to the pod's /etc/hosts.
package runtime
