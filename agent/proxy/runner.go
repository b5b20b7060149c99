package proxy

import "strings"

// Runner is the narrow seam between the proxy and iptables. ExecRunner
// is the real one; FakeRunner keeps tables in memory for unit tests.
type Runner interface {
	// Restore applies iptables-restore input for one table as one atomic
	// transaction, without flushing chains it does not mention.
	Restore(table string, data []byte) error
	// Save returns iptables-save output for one table.
	Save(table string) ([]byte, error)
	// EnsureChain creates a chain if it does not exist.
	EnsureChain(table, chain string) error
	// EnsureRule inserts rule at the top of chain unless an identical rule
	// is already in it. It reports whether the rule was already there.
	EnsureRule(table, chain string, rule ...string) (existed bool, err error)
	// SetSysctl writes a sysctl such as "net/ipv4/conf/all/route_localnet".
	SetSysctl(name, value string) error
}

// hook is one jump from a built-in chain into an owned chain.
type hook struct {
	table, chain string
	rule         []string
}

// hooks are the fixed jumps into the proxy's chains, in the order they
// should appear at the top of each built-in chain.
var hooks = []hook{
	{"nat", "PREROUTING", []string{"-m", "comment", "--comment", "strom service portals", "-j", chainServices}},
	{"nat", "OUTPUT", []string{"-m", "comment", "--comment", "strom service portals", "-j", chainServices}},
	{"nat", "POSTROUTING", []string{"-m", "comment", "--comment", "strom postrouting rules", "-j", chainPostrouting}},
	{"filter", "INPUT", []string{"-m", "comment", "--comment", "strom firewall", "-j", chainFirewall}},
	{"filter", "INPUT", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "strom externally-visible service portals", "-j", chainExternalServices}},
	{"filter", "FORWARD", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "strom service portals", "-j", chainServices}},
	{"filter", "FORWARD", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "strom externally-visible service portals", "-j", chainExternalServices}},
	{"filter", "FORWARD", []string{"-m", "comment", "--comment", "strom forwarding rules", "-j", chainForward}},
	{"filter", "OUTPUT", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "strom service portals", "-j", chainServices}},
	{"filter", "OUTPUT", []string{"-m", "conntrack", "--ctstate", "NEW", "-m", "comment", "--comment", "strom externally-visible service portals", "-j", chainExternalServices}},
}

// topChains are the fixed owned chains of each table.
var topChains = map[string][]string{
	"nat":    {chainServices, chainNodePorts, chainPostrouting, chainMarkMasq},
	"filter": {chainServices, chainExternalServices, chainForward, chainFirewall},
}

// joinRule renders rule arguments the way iptables-save prints them,
// quoting arguments with spaces.
func joinRule(rule []string) string {
	parts := make([]string, len(rule))
	for i, a := range rule {
		if strings.ContainsAny(a, " \t\"") {
			a = `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}
