// Package network attaches pods to the node's pod network with CNI.
//
// It drives the standard plugins (Debian's containernetworking-plugins in
// /usr/lib/cni) through libcni with cniVersion 1.0.0: a "strom" list of
// bridge (isGateway, ipMasq, hairpinMode) with host-local IPAM over the node's
// pod CIDR plus portmap for hostPorts, and a separate list that brings up lo.
// The configuration is generated in memory (BridgeConfList, LoopbackConfList);
// libcni's cache and host-local's allocations live under Config.CacheDir.
//
// Setup and Teardown are idempotent: a second Setup of the same pod and
// network namespace returns the cached IP; Teardown of a pod that is not set
// up, or whose namespace is gone, succeeds.
//
// The plugins act on the network namespace of the thread that runs them. By
// default that is the agent's (the host's). Config.HostNetNS names another
// namespace to act as the node: every CNI call and route change then runs on
// a thread locked into it. Tests use that to keep bridges and iptables rules
// inside a namespace they create.
//
// RouteToBridge routes a CIDR (the service CIDR) to the bridge, so that
// traffic to service IPs from the node stays on the machine for the proxy's
// DNAT rules.
package network
