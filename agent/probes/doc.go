// Package probes runs container probes and lifecycle hooks from the node.
//
// Check runs one probe handler (exec through the runtime, tcpSocket or
// httpGet against the pod IP) with a timeout. Tracker applies a probe's
// successThreshold and failureThreshold to a stream of results; it is pure and
// table-tested. Worker runs one probe of one container on its own goroutine:
// it waits initialDelaySeconds, checks every periodSeconds, and calls back
// when the thresholded result changes. RunHook runs a postStart or preStop
// handler (exec, httpGet or sleep).
//
// Network probes dial through Target.Dial, so the node (or, in tests, a
// network namespace acting as the node) is where the connection starts.
package probes
