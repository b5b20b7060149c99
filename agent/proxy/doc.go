// Package proxy is Strom's service proxy, with two data planes: an
// iptables mode in kube-proxy's layout (this comment) and an nftables
// mode for large clusters (NewNFTProxier; its layout is described in
// nft.go). Both share the model, the coalescing Proxier and its metrics.
//
// The agent hands the proxy a slim model of service ports and their
// endpoints (ServicePort, built with FromService from core/v1 Services and
// Endpoints). Render turns that model into iptables-restore input for the
// nat and filter tables; it is pure and deterministic, so golden files in
// testdata pin its output. The Proxier coalesces updates and applies them
// through a Runner: go-iptables for the few fixed hook rules in built-in
// chains, and one atomic `iptables-restore --noflush` per table for every
// sync. Unchanged services are not rewritten on incremental syncs; see
// Proxier for when a full rewrite happens.
//
// Use from the agent:
//
//	r, err := proxy.NewExecRunner(proxy.ExecOptions{})
//	p := proxy.NewProxier(r, proxy.ProxierConfig{Config: proxy.Config{
//		PodCIDR: clusterCIDR, LocalhostNodePorts: true}}, log, nil)
//	go p.Run(ctx)
//	p.OnServiceUpdate(ns, name, proxy.FromService(svc, endpoints)) // nil ports delete
//	// strom-agent --cleanup:
//	err = proxy.Cleanup(r)
//
// The node must route the service CIDR somewhere local (the pod bridge):
// locally originated packets are routed before OUTPUT DNAT. A pod that
// reaches itself through a service needs hairpin mode on its bridge port.
//
// Rule layout (nat):
//
//	PREROUTING, OUTPUT -> STROM-SERVICES
//	  -d clusterIP -p P --dport N            -> STROM-SVC-<hash>
//	  -d externalIP|lbIP -p P --dport N      -> STROM-MARK-MASQ, STROM-SVC-<hash>
//	  -m addrtype --dst-type LOCAL           -> STROM-NODEPORTS (last)
//	STROM-NODEPORTS: -p P --dport nodePort   -> STROM-MARK-MASQ, STROM-SVC-<hash>
//	STROM-SVC-<hash>: off-cluster sources (! -s PodCIDR) marked for
//	  masquerade; ClientIP affinity (-m recent --rcheck --reap); random
//	  choice among ready endpoints (-m statistic --probability 1/(n-i),
//	  last one unconditional)
//	STROM-SEP-<hash>: hairpin masquerade (-s endpoint), -m recent --set
//	  with affinity, DNAT
//	STROM-MARK-MASQ: --or-mark 0x4000
//	POSTROUTING -> STROM-POSTROUTING: RETURN unless marked, clear the mark,
//	  MASQUERADE
//
// NodePort, externalIP and load-balancer traffic is always masqueraded
// (externalTrafficPolicy Local is not supported). NodePorts on 127.0.0.1
// work with Config.LocalhostNodePorts, which needs route_localnet=1; the
// masquerade mark rewrites the 127.0.0.1 source on the way out.
//
// filter: STROM-SERVICES (OUTPUT, FORWARD) and STROM-EXTERNAL-SERVICES
// (INPUT, OUTPUT, FORWARD) REJECT service ports that have no ready
// endpoints, so clients see "connection refused" at once; STROM-FORWARD
// accepts forwarded service traffic; STROM-FIREWALL (INPUT) drops
// off-host packets to 127.0.0.0/8, which route_localnet=1 would otherwise
// let in.
package proxy
