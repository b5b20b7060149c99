// Package ctrtest starts a private containerd for integration tests and
// gives them throw-away network namespaces to act as a node.
//
// Start launches /usr/bin/containerd (Debian package containerd) with its own
// root, state, socket and a minimal config (CRI plugin disabled, overlayfs
// snapshotter). Its t.Cleanup deletes every container and task left in it,
// stops the daemon by PID, kills that daemon's leftover shims by PID, unmounts
// anything still mounted under its directories and removes them.
//
// NewNetNS pins a fresh network namespace (with lo up) that is removed at the
// end of the test; bridges, veths and iptables rules made inside it die with it.
//
// Tests that use this package need root; without it, or without containerd,
// they fail with a message saying what to install or how to run them.
package ctrtest
