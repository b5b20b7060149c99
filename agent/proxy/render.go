package proxy

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Config shapes the rules.
type Config struct {
	// PodCIDR is the cluster's pod CIDR. When valid, packets to a
	// ClusterIP from sources outside it (the node itself, other hosts)
	// are masqueraded so replies come back through this node.
	PodCIDR netip.Prefix
	// LocalhostNodePorts makes NodePorts answer on 127.0.0.1 too. It
	// needs net.ipv4.conf.all.route_localnet=1 (the Proxier sets it) and
	// adds a filter rule that drops off-host packets to 127.0.0.0/8.
	LocalhostNodePorts bool
	// LocalPodCIDR is this node's own pod CIDR. The nftables mode keeps
	// hairpin entries (a pod reaching itself through a service) only for
	// endpoints in it, since only local pods can hairpin here; zero means
	// every endpoint. The iptables mode does not use it.
	LocalPodCIDR netip.Prefix
}

// renderedService is the rule text one service port contributes: lines
// for the shared top chains and its own chains. The Proxier caches it and
// re-renders only service ports that changed.
type renderedService struct {
	key string
	sp  ServicePort
	// natServices and natNodePorts are "-A ..." lines for the shared
	// STROM-SERVICES and STROM-NODEPORTS chains.
	natServices  []string
	natNodePorts []string
	// chains are the service's own nat chains, in output order.
	chains []chainText
	// filterServices and filterExternal reject the service port when it
	// has no ready endpoints.
	filterServices []string
	filterExternal []string
}

// chainText is one owned chain and its rules, each line ending in "\n".
type chainText struct {
	name  string
	rules string
}

// Render returns iptables-restore input for the nat and filter tables
// that programs state from scratch: every owned chain is declared (which
// creates or flushes it) and filled. It deletes no chains; the Proxier adds
// deletions for chains that a previous sync left behind.
func Render(state []ServicePort, cfg Config) (nat, filter []byte) {
	svcs := make([]*renderedService, 0, len(state))
	for i := range state {
		svcs = append(svcs, renderService(&state[i], cfg))
	}
	sortRendered(svcs)
	t := assemble(svcs, nil, nil, cfg, nil, nil, false, false)
	return t.nat, t.filter
}

func sortRendered(svcs []*renderedService) {
	slices.SortFunc(svcs, func(a, b *renderedService) int { return strings.Compare(a.key, b.key) })
}

// renderService renders one service port. Headless service ports and
// IPv6 ClusterIPs render nothing.
func renderService(in *ServicePort, cfg Config) *renderedService {
	sp := in.clone()
	rs := &renderedService{key: sp.Key(), sp: sp}
	if !sp.ClusterIP.Is4() || sp.Port <= 0 {
		return rs
	}
	key := rs.key
	proto := sp.proto()
	comment := strconv.Quote(sp.String())
	eps := sp.readyEndpoints()
	external := sortedAddrs(slices.Concat(sp.ExternalIPs, sp.LoadBalancerIPs))
	portMatch := " -p " + proto + " -m " + proto + " --dport " + strconv.Itoa(int(sp.Port))

	if len(eps) == 0 {
		rs.filterServices = append(rs.filterServices,
			"-A "+chainServices+" -m comment --comment "+quoteSuffix(sp.String(), " has no endpoints")+
				" -d "+sp.ClusterIP.String()+"/32"+portMatch+" -j REJECT --reject-with icmp-port-unreachable\n")
		for _, a := range external {
			rs.filterExternal = append(rs.filterExternal,
				"-A "+chainExternalServices+" -m comment --comment "+quoteSuffix(sp.String(), " has no endpoints")+
					" -d "+a.String()+"/32"+portMatch+" -j REJECT --reject-with icmp-port-unreachable\n")
		}
		if sp.NodePort > 0 {
			rs.filterExternal = append(rs.filterExternal,
				"-A "+chainExternalServices+" -m comment --comment "+quoteSuffix(sp.String(), " has no endpoints")+
					" -m addrtype --dst-type LOCAL -p "+proto+" -m "+proto+" --dport "+strconv.Itoa(int(sp.NodePort))+
					" -j REJECT --reject-with icmp-port-unreachable\n")
		}
		return rs
	}

	svcChain := serviceChain(key)
	rs.natServices = append(rs.natServices,
		"-A "+chainServices+" -m comment --comment "+quoteSuffix(sp.String(), " cluster IP")+
			" -d "+sp.ClusterIP.String()+"/32"+portMatch+" -j "+svcChain+"\n")
	for _, a := range external {
		m := "-A " + chainServices + " -m comment --comment " + quoteSuffix(sp.String(), " external IP") +
			" -d " + a.String() + "/32" + portMatch
		rs.natServices = append(rs.natServices, m+" -j "+chainMarkMasq+"\n", m+" -j "+svcChain+"\n")
	}
	if sp.NodePort > 0 {
		m := "-A " + chainNodePorts + " -m comment --comment " + comment +
			" -p " + proto + " -m " + proto + " --dport " + strconv.Itoa(int(sp.NodePort))
		rs.natNodePorts = append(rs.natNodePorts, m+" -j "+chainMarkMasq+"\n", m+" -j "+svcChain+"\n")
	}

	var b strings.Builder
	if cfg.PodCIDR.IsValid() {
		b.WriteString("-A " + svcChain + " ! -s " + cfg.PodCIDR.Masked().String() +
			" -d " + sp.ClusterIP.String() + "/32" + portMatch + " -j " + chainMarkMasq + "\n")
	}
	sepChains := make([]string, len(eps))
	for i, ep := range eps {
		sepChains[i] = endpointChain(key, ep.IP, ep.Port)
	}
	timeout := strconv.Itoa(int(sp.affinityTimeout()))
	if sp.SessionAffinityClientIP {
		for _, sep := range sepChains {
			b.WriteString("-A " + svcChain + " -m recent --name " + sep +
				" --rcheck --seconds " + timeout + " --reap -j " + sep + "\n")
		}
	}
	n := len(eps)
	for i, sep := range sepChains {
		if i < n-1 {
			b.WriteString("-A " + svcChain + " -m statistic --mode random --probability " +
				probability(n-i) + " -j " + sep + "\n")
		} else {
			b.WriteString("-A " + svcChain + " -j " + sep + "\n")
		}
	}
	rs.chains = append(rs.chains, chainText{name: svcChain, rules: b.String()})

	for i, ep := range eps {
		sep := sepChains[i]
		dest := ep.IP.String() + ":" + strconv.Itoa(int(ep.Port))
		var e strings.Builder
		e.WriteString("-A " + sep + " -s " + ep.IP.String() + "/32 -j " + chainMarkMasq + "\n")
		e.WriteString("-A " + sep + " -p " + proto)
		if sp.SessionAffinityClientIP {
			e.WriteString(" -m recent --name " + sep + " --set")
		}
		e.WriteString(" -j DNAT --to-destination " + dest + "\n")
		rs.chains = append(rs.chains, chainText{name: sep, rules: e.String()})
	}
	return rs
}

// probability is 1/n with ten decimals, as kube-proxy prints it; the
// kernel keeps 32 bits of it.
func probability(n int) string {
	return strconv.FormatFloat(1/float64(n), 'f', 10, 64)
}

// quoteSuffix quotes s+suffix for an iptables comment.
func quoteSuffix(s, suffix string) string { return strconv.Quote(s + suffix) }
