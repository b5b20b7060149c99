package proxy

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/knftables"
)

// The nftables mode programs one table of its own, "ip strom", through
// sigs.k8s.io/knftables: one Transaction (one `nft -f`, atomic in the
// kernel) per sync, as the iptables mode does with iptables-restore. The
// planner below is pure: it keeps the model and turns a change into
// knftables operations. What makes it scale is that a service is not a
// chain but a few map elements, so the kernel's work per sync and the size
// of the rule graph it validates do not grow with the number of services:
//
//	nat-prerouting, nat-output (nat hooks) -> services
//	services:
//	  ip daddr . meta l4proto . th dport vmap @service-ips
//	  fib daddr type local meta l4proto . th dport vmap @service-nodeports
//	@service-ips: clusterIP . proto . port    : goto cluster-N
//	              externalIP|lbIP . proto . port : goto external-N
//	@service-nodeports: proto . nodePort      : goto nodeport-N
//	cluster-N:  off-cluster sources marked for masquerade; goto pick-N
//	external-N: mark for masquerade; goto pick-N
//	pick-N:     dnat to (ip daddr . l4proto . dport . numgen random mod N) map @backends
//	nodeport-N: mark; dnat to (l4proto . dport . numgen random mod N) map @nodeport-backends
//	@backends: clusterIP . proto . port . i : endpointIP . port   (i = 0..N-1)
//	nat-postrouting -> masquerading:
//	  ct status dnat ip saddr . ip daddr @hairpin masquerade   (a pod reaching itself)
//	  unmarked: return; else clear the mark and masquerade
//	filter-input/-forward/-output: new connections to
//	  @no-endpoint-services / @no-endpoint-nodeports are rejected;
//	  with LocalhostNodePorts, off-host packets to 127.0.0.0/8 dropped.
//
// The N-chains exist once per endpoint count in use, not per service.
// Service ports with ClientIP affinity need per-endpoint state, so they
// get chains of their own (svc-<hash>, sep-<hash>) and one dynamic set
// per endpoint (aff-<hash>) that remembers recent clients.
//
// A frontend (an address . protocol . port, or a node port) belongs to one
// service port; when two claim it (two Services listing the same external
// IP and port), the one with the smaller key wins and the other is not
// programmed for that frontend, so a conflict never breaks a sync.

// Proxy modes.
const (
	ModeIPTables = "iptables"
	ModeNFTables = "nftables"
)

// CheckMode returns an error naming the valid modes unless mode is one.
func CheckMode(mode string) error {
	if mode == ModeIPTables || mode == ModeNFTables {
		return nil
	}
	return fmt.Errorf("unknown proxy mode %q: want %s or %s", mode, ModeIPTables, ModeNFTables)
}

// NFTTable is the nftables table ("ip" family) the nftables mode owns.
const NFTTable = "strom"

// Names of the fixed objects of the table.
const (
	nftServiceIPs        = "service-ips"
	nftServiceNodePorts  = "service-nodeports"
	nftBackends          = "backends"
	nftNodePortBackends  = "nodeport-backends"
	nftNoEndpoints       = "no-endpoint-services"
	nftNoEndpointNodePts = "no-endpoint-nodeports"
	nftHairpin           = "hairpin"

	nftChainServices    = "services"
	nftChainMarkMasq    = "mark-for-masquerade"
	nftChainMasquerade  = "masquerading"
	nftChainNoEndpoints = "no-endpoints"
)

// nftFixedSets declares the maps and sets, in creation order. The
// backend maps are per protocol and declared with typeof (numgen's value
// has no named type); nft 1.0.6 then insists that rules using them match
// that same protocol, which per-protocol maps guarantee.
var nftFixedSets = func() []knftables.Object {
	out := []knftables.Object{
		&knftables.Map{Name: nftServiceIPs, Type: "ipv4_addr . inet_proto . inet_service : verdict"},
		&knftables.Map{Name: nftServiceNodePorts, Type: "inet_proto . inet_service : verdict"},
		&knftables.Set{Name: nftNoEndpoints, Type: "ipv4_addr . inet_proto . inet_service"},
		&knftables.Set{Name: nftNoEndpointNodePts, Type: "inet_proto . inet_service"},
		&knftables.Set{Name: nftHairpin, Type: "ipv4_addr . ipv4_addr"},
	}
	for _, p := range nftProtocols {
		out = append(out,
			&knftables.Map{Name: nftBackends + "-" + p,
				TypeOf: "ip daddr . " + p + " dport . numgen random mod 1 : ip daddr . " + p + " dport"},
			&knftables.Map{Name: nftNodePortBackends + "-" + p,
				TypeOf: p + " dport . numgen random mod 1 : ip daddr . " + p + " dport"})
	}
	return out
}()

// nftFlushOf returns the flush of a fixed map or set: the object by name.
func nftFlushOf(o knftables.Object) knftables.Object {
	switch o := o.(type) {
	case *knftables.Map:
		return &knftables.Map{Name: o.Name}
	case *knftables.Set:
		return &knftables.Set{Name: o.Name}
	}
	panic(fmt.Sprintf("nftFlushOf: %T", o))
}

// nftBaseChain is a chain attached to a netfilter hook and its one rule.
type nftBaseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority knftables.BaseChainPriority
	rule     string
}

func (c nftBaseChain) chain() *knftables.Chain {
	return &knftables.Chain{Name: c.name, Type: &c.typ, Hook: &c.hook, Priority: &c.priority,
		Policy: knftables.PtrTo(knftables.AcceptPolicy)}
}

// nftBaseChains are the chains attached to netfilter hooks.
var nftBaseChains = []nftBaseChain{
	{"nat-prerouting", knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority, "jump " + nftChainServices},
	{"nat-output", knftables.NATType, knftables.OutputHook, "-100", "jump " + nftChainServices},
	{"nat-postrouting", knftables.NATType, knftables.PostroutingHook, knftables.SNATPriority, "jump " + nftChainMasquerade},
	{"filter-input", knftables.FilterType, knftables.InputHook, "-110", "ct state new jump " + nftChainNoEndpoints},
	{"filter-forward", knftables.FilterType, knftables.ForwardHook, "-110", "ct state new jump " + nftChainNoEndpoints},
	{"filter-output", knftables.FilterType, knftables.OutputHook, "-110", "ct state new jump " + nftChainNoEndpoints},
}

// nftProtocols are the transport protocols a pick chain translates.
var nftProtocols = []string{"tcp", "udp", "sctp"}

// nftFront is what one service port wants for one frontend.
type nftFront struct {
	// verdict is "goto <chain>"; empty means no ready endpoints, so the
	// frontend is rejected instead.
	verdict string
	// backends are "ip . port" by numgen index (none for affinity ports,
	// whose chains DNAT themselves).
	backends []string
}

func (f nftFront) equal(o nftFront) bool {
	return f.verdict == o.verdict && slices.Equal(f.backends, o.backends)
}

// nftChain is one chain a service port owns and its rules.
type nftChain struct {
	name  string
	rules []string
}

// nftPort is what one service port contributes to the table.
type nftPort struct {
	key        string
	fronts     map[string]nftFront // service-ips keys: "ip . proto . port"
	nodeFronts map[string]nftFront // service-nodeports keys: "proto . port"
	hairpin    []string            // local endpoint IPs, deduplicated
	chains     []nftChain          // affinity chains, svc first
	sets       []string            // affinity sets
	affTimeout int32
}

// nftRenderPort renders one service port. Headless and IPv6 ports render
// nothing.
func nftRenderPort(sp *ServicePort, cfg Config) *nftPort {
	np := &nftPort{key: sp.Key(), fronts: map[string]nftFront{}, nodeFronts: map[string]nftFront{}}
	proto := sp.proto()
	if !sp.ClusterIP.Is4() || sp.Port <= 0 || !slices.Contains(nftProtocols, proto) {
		return np
	}
	port := strconv.Itoa(int(sp.Port))
	eps := sp.readyEndpoints()
	external := sortedAddrs(slices.Concat(sp.ExternalIPs, sp.LoadBalancerIPs))
	clusterKey := sp.ClusterIP.String() + " . " + proto + " . " + port
	nodeKey := ""
	if sp.NodePort > 0 {
		nodeKey = proto + " . " + strconv.Itoa(int(sp.NodePort))
	}

	if len(eps) == 0 {
		np.fronts[clusterKey] = nftFront{}
		for _, a := range external {
			np.fronts[a.String()+" . "+proto+" . "+port] = nftFront{}
		}
		if nodeKey != "" {
			np.nodeFronts[nodeKey] = nftFront{}
		}
		return np
	}

	seen := map[netip.Addr]bool{}
	for _, ep := range eps {
		if !seen[ep.IP] && (!cfg.LocalPodCIDR.IsValid() || cfg.LocalPodCIDR.Contains(ep.IP)) {
			np.hairpin = append(np.hairpin, ep.IP.String())
		}
		seen[ep.IP] = true
	}

	if sp.SessionAffinityClientIP {
		svc := "svc-" + hashName(np.key)
		goSvc := nftFront{verdict: "goto " + svc}
		np.fronts[clusterKey] = goSvc
		for _, a := range external {
			np.fronts[a.String()+" . "+proto+" . "+port] = goSvc
		}
		if nodeKey != "" {
			np.nodeFronts[nodeKey] = goSvc
		}
		np.affTimeout = sp.affinityTimeout()
		rules := []string{"ip daddr != " + sp.ClusterIP.String() + " jump " + nftChainMarkMasq}
		if cfg.PodCIDR.IsValid() {
			rules = append(rules, "ip daddr "+sp.ClusterIP.String()+" ip saddr != "+cfg.PodCIDR.Masked().String()+" jump "+nftChainMarkMasq)
		}
		seps := make([]string, len(eps))
		var sepChains []nftChain
		for i, ep := range eps {
			id := hashName(np.key + "|" + ep.IP.String() + ":" + strconv.Itoa(int(ep.Port)))
			seps[i] = "sep-" + id
			set := "aff-" + hashName(id+"|"+strconv.Itoa(int(np.affTimeout)))
			np.sets = append(np.sets, set)
			rules = append(rules, "ip saddr @"+set+" goto "+seps[i])
			sepChains = append(sepChains, nftChain{name: seps[i], rules: []string{
				"update @" + set + " { ip saddr }",
				"meta l4proto " + proto + " dnat ip to " + ep.IP.String() + ":" + strconv.Itoa(int(ep.Port)),
			}})
		}
		n := len(eps)
		for i, sep := range seps {
			if i < n-1 {
				rules = append(rules, "numgen random mod "+strconv.Itoa(n-i)+" 0 goto "+sep)
			} else {
				rules = append(rules, "goto "+sep)
			}
		}
		np.chains = append([]nftChain{{name: svc, rules: rules}}, sepChains...)
		return np
	}

	n := strconv.Itoa(len(eps))
	backends := make([]string, len(eps))
	for i, ep := range eps {
		backends[i] = ep.IP.String() + " . " + strconv.Itoa(int(ep.Port))
	}
	cluster := "pick-" + n
	if cfg.PodCIDR.IsValid() {
		cluster = "cluster-" + n
	}
	np.fronts[clusterKey] = nftFront{verdict: "goto " + cluster, backends: backends}
	for _, a := range external {
		np.fronts[a.String()+" . "+proto+" . "+port] = nftFront{verdict: "goto external-" + n, backends: backends}
	}
	if nodeKey != "" {
		np.nodeFronts[nodeKey] = nftFront{verdict: "goto nodeport-" + n, backends: backends}
	}
	return np
}

// nftCountChain returns the rules of a per-endpoint-count chain and the
// chain it depends on ("" for none).
func nftCountChain(name string, cfg Config) (rules []string, dep string, ok bool) {
	kind, nStr, found := strings.Cut(name, "-")
	n, err := strconv.Atoi(nStr)
	if !found || err != nil || n <= 0 {
		return nil, "", false
	}
	switch kind {
	case "pick":
		for _, p := range nftProtocols {
			rules = append(rules, "meta l4proto "+p+" dnat ip to ip daddr . "+p+" dport . numgen random mod "+nStr+" map @"+nftBackends+"-"+p)
		}
		return rules, "", true
	case "cluster":
		return []string{
			"ip saddr != " + cfg.PodCIDR.Masked().String() + " jump " + nftChainMarkMasq,
			"goto pick-" + nStr,
		}, "pick-" + nStr, true
	case "external":
		return []string{"jump " + nftChainMarkMasq, "goto pick-" + nStr}, "pick-" + nStr, true
	case "nodeport":
		rules = []string{"jump " + nftChainMarkMasq}
		for _, p := range nftProtocols {
			rules = append(rules, "meta l4proto "+p+" dnat ip to "+p+" dport . numgen random mod "+nStr+" map @"+nftNodePortBackends+"-"+p)
		}
		return rules, "", true
	}
	return nil, "", false
}

// nftFixedRules are the rules of the fixed non-base chains.
func nftFixedRules(cfg Config) []nftChain {
	services := []string{"ip daddr . meta l4proto . th dport vmap @" + nftServiceIPs}
	local := "fib daddr type local "
	if !cfg.LocalhostNodePorts {
		local += "ip daddr != 127.0.0.0/8 "
	}
	services = append(services, local+"meta l4proto . th dport vmap @"+nftServiceNodePorts)
	noEP := []string{
		"ip daddr . meta l4proto . th dport @" + nftNoEndpoints + " reject",
		"fib daddr type local meta l4proto . th dport @" + nftNoEndpointNodePts + " reject",
	}
	return []nftChain{
		{nftChainServices, services},
		{nftChainMarkMasq, []string{"meta mark set meta mark or " + masqMark}},
		{nftChainMasquerade, []string{
			"ct status dnat ip saddr . ip daddr @" + nftHairpin + " masquerade",
			"meta mark & " + masqMark + " == 0 return",
			"meta mark set meta mark xor " + masqMark,
			"masquerade",
		}},
		{nftChainNoEndpoints, noEP},
	}
}

// nftFrontTable tracks one family of frontends: who claims each key and
// what the kernel holds for it.
type nftFrontTable struct {
	// vmap and reject hold the frontend keys; backend elements go to
	// backends+"-"+protocol, keyed by the frontend key without its
	// protocol and with the numgen index appended.
	vmap, backends, reject string
	claims                 map[string]map[string]nftFront // front key -> port key -> want
	applied                map[string]nftFront            // what the kernel has
}

func newNFTFrontTable(vmap, backends, reject string) *nftFrontTable {
	return &nftFrontTable{vmap: vmap, backends: backends, reject: reject,
		claims: map[string]map[string]nftFront{}, applied: map[string]nftFront{}}
}

// backendKey returns the map and key of backend i of a frontend key
// ("ip . proto . port" or "proto . port").
func (t *nftFrontTable) backendKey(front string, i int) (set, key string) {
	parts := strings.Split(front, " . ")
	proto := parts[len(parts)-2]
	rest := slices.Delete(parts, len(parts)-2, len(parts)-1)
	return t.backends + "-" + proto, strings.Join(rest, " . ") + " . " + strconv.Itoa(i)
}

// winner returns the wanted value of a frontend: the claim of the
// smallest port key.
func (t *nftFrontTable) winner(key string) (nftFront, bool) {
	c := t.claims[key]
	if len(c) == 0 {
		return nftFront{}, false
	}
	best := ""
	for k := range c {
		if best == "" || k < best {
			best = k
		}
	}
	return c[best], true
}

// nftState is the nftables mode's model of the table: what every
// service port wants and what the kernel holds. It is changed as a sync
// is prepared; a failed transaction leaves the kernel as it was, and the
// next sync is then a fresh one that rebuilds the table from the wants.
type nftState struct {
	runner NFTRunner
	cfg    Config

	ports   map[string]*nftPort
	ips     *nftFrontTable // service-ips, backends, no-endpoint-services
	nodes   *nftFrontTable // service-nodeports, nodeport-backends, no-endpoint-nodeports
	hairpin map[string]int // endpoint IP -> ports using it
	hpIn    map[string]bool

	countChains map[string]bool // per-count chains in the kernel
	affChains   map[string]bool // affinity chains in the kernel
	affSets     map[string]bool // affinity sets in the kernel
	fresh       bool            // next full sync deletes and recreates the table
}

func newNFTState(r NFTRunner, cfg Config) *nftState {
	return &nftState{
		runner: r, cfg: cfg, ports: map[string]*nftPort{},
		ips:     newNFTFrontTable(nftServiceIPs, nftBackends, nftNoEndpoints),
		nodes:   newNFTFrontTable(nftServiceNodePorts, nftNodePortBackends, nftNoEndpointNodePts),
		hairpin: map[string]int{}, hpIn: map[string]bool{},
		countChains: map[string]bool{}, affChains: map[string]bool{}, affSets: map[string]bool{},
		fresh: true,
	}
}

// plan updates the model with the changed service ports (nil: removed)
// and adds to tx the operations that bring the kernel there; ops is their
// number (0: nothing to do). full rewrites every chain and element.
func (st *nftState) plan(tx *knftables.Transaction, changed map[string]*ServicePort, full bool) (ops, rewritten int) {
	s := newNFTScript()
	// Old affinity objects of changed ports, to flush or delete.
	oldChains, oldSets := map[string]bool{}, map[string]bool{}
	touchedIPs, touchedNodes, touchedHP := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for k, sp := range changed {
		if old, ok := st.ports[k]; ok {
			for _, c := range old.chains {
				oldChains[c.name] = true
			}
			for _, set := range old.sets {
				oldSets[set] = true
			}
			for fk := range old.fronts {
				delete(st.ips.claims[fk], k)
				touchedIPs[fk] = true
			}
			for fk := range old.nodeFronts {
				delete(st.nodes.claims[fk], k)
				touchedNodes[fk] = true
			}
			for _, ip := range old.hairpin {
				st.hairpin[ip]--
				touchedHP[ip] = true
			}
			delete(st.ports, k)
		}
		if sp == nil {
			continue
		}
		np := nftRenderPort(sp, st.cfg)
		st.ports[k] = np
		for fk, f := range np.fronts {
			claim(st.ips.claims, fk, k, f)
			touchedIPs[fk] = true
		}
		for fk, f := range np.nodeFronts {
			claim(st.nodes.claims, fk, k, f)
			touchedNodes[fk] = true
		}
		for _, ip := range np.hairpin {
			st.hairpin[ip]++
			touchedHP[ip] = true
		}
	}
	for ip, n := range st.hairpin {
		if n <= 0 {
			delete(st.hairpin, ip)
		}
	}

	// New affinity objects.
	newChains, newSets := map[string]nftChain{}, map[string]int32{} // set -> affinity timeout
	var affPorts []*nftPort
	if full {
		for _, np := range st.ports {
			affPorts = append(affPorts, np)
		}
		rewritten = len(st.ports)
	} else {
		for k := range changed {
			if np, ok := st.ports[k]; ok {
				affPorts = append(affPorts, np)
			}
		}
		rewritten = len(changed)
	}
	for _, np := range affPorts {
		for _, c := range np.chains {
			newChains[c.name] = c
		}
		for _, set := range np.sets {
			newSets[set] = np.affTimeout
		}
	}

	var flushed []string // per-count chains a full sync flushed
	if full {
		flushed = st.planFullPrefix(s)
		// Every chain is flushed and rewritten below; every element re-added.
		for c := range st.affChains {
			oldChains[c] = true
		}
		for set := range st.affSets {
			oldSets[set] = true
		}
		for fk := range st.ips.claims {
			touchedIPs[fk] = true
		}
		for fk := range st.nodes.claims {
			touchedNodes[fk] = true
		}
		for ip := range st.hairpin {
			touchedHP[ip] = true
		}
		clear(st.ips.applied)
		clear(st.nodes.applied)
		clear(st.hpIn)
	}

	// Affinity chains: flush the old ones first (their rules reference
	// sets and endpoint chains that may go), delete the unused ones after
	// the map elements pointing at them are gone.
	for _, c := range sortedKeys(oldChains) {
		if st.affChains[c] {
			s.flush.flush(&knftables.Chain{Name: c})
		}
	}
	for _, c := range sortedKeys(oldChains) {
		if _, keep := newChains[c]; !keep && st.affChains[c] {
			s.delObj.del(&knftables.Chain{Name: c})
			delete(st.affChains, c)
		}
	}
	for _, set := range sortedKeys(oldSets) {
		if _, keep := newSets[set]; !keep && st.affSets[set] {
			s.delObj.del(&knftables.Set{Name: set})
			delete(st.affSets, set)
		}
	}
	for _, set := range sortedKeys(newSets) {
		if !st.affSets[set] {
			s.decl.add(&knftables.Set{Name: set, Type: "ipv4_addr",
				Flags:   []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag},
				Timeout: knftables.PtrTo(time.Duration(newSets[set]) * time.Second)})
			st.affSets[set] = true
		}
	}
	names := make([]string, 0, len(newChains))
	for c := range newChains {
		names = append(names, c)
	}
	slices.Sort(names)
	for _, c := range names {
		if !st.affChains[c] {
			s.decl.add(&knftables.Chain{Name: c})
			st.affChains[c] = true
		}
	}
	for _, c := range names {
		s.chainRules(newChains[c])
	}

	st.diffFronts(s, st.ips, touchedIPs)
	st.diffFronts(s, st.nodes, touchedNodes)
	for _, ip := range sortedKeys(touchedHP) {
		want := st.hairpin[ip] > 0
		if want == st.hpIn[ip] {
			continue
		}
		if want {
			s.addElem(nftHairpin, false, ip+" . "+ip)
			st.hpIn[ip] = true
		} else {
			s.delElem(nftHairpin, false, ip+" . "+ip)
			delete(st.hpIn, ip)
		}
	}

	if full {
		// Known per-count chains were flushed: those still pointed at get
		// their rules again, the others go.
		used := map[string]bool{}
		for _, t := range []*nftFrontTable{st.ips, st.nodes} {
			for _, f := range t.applied {
				if c, ok := strings.CutPrefix(f.verdict, "goto "); ok {
					used[c] = true
					if _, dep, ok := nftCountChain(c, st.cfg); ok && dep != "" {
						used[dep] = true
					}
				}
			}
		}
		for _, c := range flushed {
			if !used[c] {
				s.delObj.del(&knftables.Chain{Name: c})
				delete(st.countChains, c)
				continue
			}
			rules, _, _ := nftCountChain(c, st.cfg)
			s.chainRules(nftChain{name: c, rules: rules})
		}
	}
	st.fresh = false
	return s.transaction(tx), rewritten
}

// planFullPrefix starts a full sync: on a fresh one the table is deleted
// and recreated; otherwise every known chain is flushed and every map and
// set except the affinity sets (which hold client state) emptied. It
// returns the per-count chains it flushed.
func (st *nftState) planFullPrefix(s *nftScript) (flushed []string) {
	if st.fresh {
		s.prefix.add(&knftables.Table{})
		s.prefix.del(&knftables.Table{})
		clear(st.countChains)
		clear(st.affChains)
		clear(st.affSets)
	}
	s.prefix.add(&knftables.Table{Comment: knftables.PtrTo("strom service proxy")})
	for _, o := range nftFixedSets {
		s.prefix.add(o)
	}
	fixed := nftFixedRules(st.cfg)
	for _, c := range fixed {
		s.prefix.add(&knftables.Chain{Name: c.name})
	}
	for _, c := range nftBaseChains {
		s.prefix.add(c.chain())
	}
	if !st.fresh {
		for _, c := range fixed {
			s.prefix.flush(&knftables.Chain{Name: c.name})
		}
		for _, c := range nftBaseChains {
			s.prefix.flush(&knftables.Chain{Name: c.name})
		}
		flushed = sortedKeys(st.countChains)
		for _, c := range flushed {
			s.prefix.flush(&knftables.Chain{Name: c})
		}
		for _, o := range nftFixedSets {
			s.prefix.flush(nftFlushOf(o))
		}
	}
	for _, c := range fixed {
		s.chainRules(c)
	}
	for _, c := range nftBaseChains {
		s.chainRules(nftChain{name: c.name, rules: []string{c.rule}})
	}
	if st.cfg.LocalhostNodePorts {
		s.chainRules(nftChain{name: "filter-input", rules: []string{
			"ip daddr 127.0.0.0/8 ip saddr != 127.0.0.0/8 ct state new ct status != dnat drop"}})
	}
	return flushed
}

// diffFronts emits the element changes that bring the kernel's frontends
// in t to their winners, for the touched keys.
func (st *nftState) diffFronts(s *nftScript, t *nftFrontTable, touched map[string]bool) {
	for _, key := range sortedKeys(touched) {
		want, has := t.winner(key)
		if !has {
			delete(t.claims, key)
		}
		old, had := t.applied[key]
		if had == has && old.equal(want) {
			continue
		}
		if had {
			switch {
			case old.verdict == "":
				if !has || want.verdict != "" {
					s.delElem(t.reject, false, key)
				}
			default:
				if !has || want.verdict != old.verdict {
					s.delElem(t.vmap, true, key)
				}
				for i, b := range old.backends {
					if !has || i >= len(want.backends) || want.backends[i] != b {
						set, k := t.backendKey(key, i)
						s.delElem(set, true, k)
					}
				}
			}
		}
		if !has {
			delete(t.applied, key)
			continue
		}
		if want.verdict == "" {
			if !had || old.verdict != "" {
				s.addElem(t.reject, false, key)
			}
		} else {
			if c, ok := strings.CutPrefix(want.verdict, "goto "); ok {
				st.ensureCountChain(s, c)
			}
			for i, b := range want.backends {
				if !had || i >= len(old.backends) || old.backends[i] != b {
					set, k := t.backendKey(key, i)
					s.addElem(set, true, k+" : "+b)
				}
			}
			if !had || old.verdict != want.verdict {
				s.addElem(t.vmap, true, key+" : "+want.verdict)
			}
		}
		t.applied[key] = want
	}
}

// ensureCountChain declares a per-count chain (and the one it jumps to)
// unless the kernel has it. Affinity chains are declared elsewhere.
func (st *nftState) ensureCountChain(s *nftScript, name string) {
	if st.countChains[name] {
		return
	}
	rules, dep, ok := nftCountChain(name, st.cfg)
	if !ok {
		return
	}
	if dep != "" {
		st.ensureCountChain(s, dep)
	}
	s.decl.add(&knftables.Chain{Name: name})
	s.chainRules(nftChain{name: name, rules: rules})
	st.countChains[name] = true
}

func claim(claims map[string]map[string]nftFront, front, port string, f nftFront) {
	c := claims[front]
	if c == nil {
		c = map[string]nftFront{}
		claims[front] = c
	}
	c[port] = f
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// RenderNFT returns the nft transaction that programs state from scratch
// into an empty table, as text; it is pure and deterministic (golden
// files pin it).
func RenderNFT(state []ServicePort, cfg Config) string {
	return renderNFT(knftables.NewFake(knftables.IPv4Family, NFTTable), state, cfg).String()
}

// renderNFT is RenderNFT's transaction, made by nft.
func renderNFT(nft knftables.Interface, state []ServicePort, cfg Config) *knftables.Transaction {
	st := newNFTState(nil, cfg)
	changed := make(map[string]*ServicePort, len(state))
	for i := range state {
		sp := state[i].clone()
		changed[sp.Key()] = &sp
	}
	tx := nft.NewTransaction()
	st.plan(tx, changed, true)
	return tx
}
