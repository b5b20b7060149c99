package proxy

import (
	"bytes"
	"slices"
	"strings"
)

// restoreTables is the iptables-restore input for one sync.
type restoreTables struct {
	nat, filter []byte
	// top is the rule text of STROM-SERVICES and STROM-NODEPORTS, which
	// list every service; a partial sync rewrites them only when it
	// differs from the previous sync's.
	top []byte
	// natNoop is set when the nat input changes nothing.
	natNoop bool
}

// assemble builds the restore input from rendered service ports sorted
// by key.
//
// When written is nil it is a full sync: every owned nat chain is
// declared (created or flushed) and filled. Otherwise it is partial: only
// the chains of service ports for which written returns true are
// rewritten, the top chains only when their text differs from lastTop,
// and --noflush leaves every other chain as it is.
//
// stale chains are flushed and deleted in the same transaction.
// Everything that referenced them is rewritten in it too: a stale
// endpoint chain belongs to a service whose endpoints changed (so it is
// written), and a stale service chain is no longer in the top chains'
// text (so they differ and are rewritten).
//
// sameTop tells a partial sync that no service port's lines in the top
// chains changed, so lastTop is reused without rebuilding it, and
// sameFilter likewise reuses lastFilter: at 10,000 services that saves
// most of an incremental sync's render time.
func assemble(svcs []*renderedService, written func(*renderedService) bool, stale []string, cfg Config,
	lastTop, lastFilter []byte, sameTop, sameFilter bool) restoreTables {
	full := written == nil
	var t restoreTables
	if !full && sameFilter && lastFilter != nil {
		t.filter = lastFilter
	} else {
		t.filter = renderFilter(svcs, cfg)
	}
	if !full && sameTop && lastTop != nil {
		t.top = lastTop
	} else {
		t.top = renderTop(svcs, cfg)
	}
	writeTop := full || !bytes.Equal(t.top, lastTop)
	return assembleNat(t, svcs, written, stale, writeTop)
}

// renderTop is the rule text of STROM-SERVICES and STROM-NODEPORTS.
func renderTop(svcs []*renderedService, cfg Config) []byte {
	var top bytes.Buffer
	for _, rs := range svcs {
		for _, l := range rs.natServices {
			top.WriteString(l)
		}
	}
	if cfg.LocalhostNodePorts {
		top.WriteString("-A " + chainServices + " -m addrtype --dst-type LOCAL -j " + chainNodePorts + "\n")
	} else {
		top.WriteString("-A " + chainServices + " ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j " + chainNodePorts + "\n")
	}
	for _, rs := range svcs {
		for _, l := range rs.natNodePorts {
			top.WriteString(l)
		}
	}
	return top.Bytes()
}

// assembleNat writes the nat input; see assemble.
func assembleNat(t restoreTables, svcs []*renderedService, written func(*renderedService) bool, stale []string, writeTop bool) restoreTables {
	full := written == nil

	// Declarations go in name order: iptables-nft-restore (1.8.9) keeps
	// its chain cache sorted by name and inserts by scanning, so random
	// order costs O(n²) (4.7x slower at 2,000 services, docs/bench/proxy.md).
	var decl []string
	if full {
		decl = append(decl, chainPostrouting, chainMarkMasq)
	}
	if writeTop {
		decl = append(decl, chainServices, chainNodePorts)
	}
	for _, rs := range svcs {
		if full || written(rs) {
			for _, c := range rs.chains {
				decl = append(decl, c.name)
			}
		}
	}
	if !writeTop && len(decl) == 0 && len(stale) == 0 {
		t.natNoop = true
	}
	decl = append(decl, stale...)
	slices.Sort(decl)

	var nat bytes.Buffer
	nat.Grow(estimateSize(svcs, written) + len(t.top))
	nat.WriteString("*nat\n")
	for _, c := range decl {
		declare(&nat, c)
	}
	if full {
		nat.WriteString("-A " + chainPostrouting + " -m mark ! --mark " + masqMark + "/" + masqMark + " -j RETURN\n")
		nat.WriteString("-A " + chainPostrouting + " -j MARK --xor-mark " + masqMark + "\n")
		nat.WriteString("-A " + chainPostrouting + " -m comment --comment \"strom service traffic requiring SNAT\" -j MASQUERADE\n")
		nat.WriteString("-A " + chainMarkMasq + " -j MARK --or-mark " + masqMark + "\n")
	}
	if writeTop {
		nat.Write(t.top)
	}
	for _, rs := range svcs {
		if full || written(rs) {
			for _, c := range rs.chains {
				nat.WriteString(c.rules)
			}
		}
	}
	for _, c := range stale {
		nat.WriteString("-X " + c + "\n")
	}
	nat.WriteString("COMMIT\n")
	t.nat = nat.Bytes()
	return t
}

// renderFilter writes the whole filter table part; it only holds rules
// for service ports without endpoints, so it stays small.
func renderFilter(svcs []*renderedService, cfg Config) []byte {
	var f bytes.Buffer
	f.WriteString("*filter\n")
	for _, c := range []string{chainServices, chainExternalServices, chainForward, chainFirewall} {
		declare(&f, c)
	}
	for _, rs := range svcs {
		for _, l := range rs.filterServices {
			f.WriteString(l)
		}
	}
	for _, rs := range svcs {
		for _, l := range rs.filterExternal {
			f.WriteString(l)
		}
	}
	f.WriteString("-A " + chainForward + " -m comment --comment \"strom forwarding rules\" -m mark --mark " + masqMark + "/" + masqMark + " -j ACCEPT\n")
	f.WriteString("-A " + chainForward + " -m comment --comment \"strom forwarding conntrack rule\" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n")
	if cfg.LocalhostNodePorts {
		f.WriteString("-A " + chainFirewall + " -m comment --comment \"block incoming localnet connections\" -d 127.0.0.0/8 ! -s 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP\n")
	}
	f.WriteString("COMMIT\n")
	return f.Bytes()
}

// declare writes a chain declaration; with --noflush it creates the chain
// or flushes it if it exists.
func declare(b *bytes.Buffer, chain string) {
	b.WriteString(":" + chain + " - [0:0]\n")
}

func estimateSize(svcs []*renderedService, written func(*renderedService) bool) int {
	n := 256
	for _, rs := range svcs {
		if written == nil || written(rs) {
			for _, c := range rs.chains {
				n += len(c.rules) + len(c.name) + 10
			}
		}
	}
	return n
}

// chainsOf lists the per-service chains declared in restore input or
// iptables-save output for one table.
func chainsOf(data []byte) []string {
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, ":") {
			continue
		}
		name, _, _ := strings.Cut(line[1:], " ")
		if isServiceChain(name) {
			out = append(out, name)
		}
	}
	return out
}
