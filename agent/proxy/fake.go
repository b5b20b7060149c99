package proxy

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// FakeRunner is an in-memory Runner for unit tests. Its Restore checks
// what iptables-restore checks that matters here: chains exist before
// rules use or jump to them, -X only deletes empty, unreferenced,
// user-defined chains, -D only deletes rules that exist, and a failed
// transaction changes nothing.
type FakeRunner struct {
	mu      sync.Mutex
	tables  map[string]*fakeTable
	sysctls map[string]string
	// restores records every successful Restore, in order.
	restores []FakeRestore
	failN    int
	failErr  error
}

// FakeRestore is one recorded Restore call.
type FakeRestore struct {
	Table string
	Data  []byte
}

type fakeTable struct {
	builtin map[string]bool
	chains  map[string][]string // chain -> rules, each without "-A CHAIN "
}

var standardTargets = map[string]bool{
	"ACCEPT": true, "DROP": true, "RETURN": true, "REJECT": true, "DNAT": true, "SNAT": true,
	"MASQUERADE": true, "MARK": true, "LOG": true, "QUEUE": true,
}

// NewFakeRunner returns a FakeRunner with empty nat and filter tables.
func NewFakeRunner() *FakeRunner {
	f := &FakeRunner{tables: map[string]*fakeTable{}, sysctls: map[string]string{}}
	for table, builtins := range map[string][]string{
		"nat":    {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
		"filter": {"INPUT", "FORWARD", "OUTPUT"},
	} {
		t := &fakeTable{builtin: map[string]bool{}, chains: map[string][]string{}}
		for _, c := range builtins {
			t.builtin[c] = true
			t.chains[c] = nil
		}
		f.tables[table] = t
	}
	return f
}

// FailRestores makes the next n Restore calls fail with err, changing
// nothing.
func (f *FakeRunner) FailRestores(n int, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failN, f.failErr = n, err
}

// Restores returns the successful Restore calls so far.
func (f *FakeRunner) Restores() []FakeRestore {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.restores)
}

// Chains lists a table's chains, sorted.
func (f *FakeRunner) Chains(table string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.tables[table].chains))
}

// Rules returns a chain's rules without the "-A CHAIN " prefix.
func (f *FakeRunner) Rules(table, chain string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.tables[table].chains[chain])
}

// Sysctl returns a value set with SetSysctl.
func (f *FakeRunner) Sysctl(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sysctls[name]
}

// Restore implements Runner.
func (f *FakeRunner) Restore(table string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failN > 0 {
		f.failN--
		return f.failErr
	}
	t, ok := f.tables[table]
	if !ok {
		return fmt.Errorf("fake restore: unknown table %q", table)
	}
	work := t.clone()
	committed := false
	for n, line := range strings.Split(string(data), "\n") {
		if err := work.apply(table, line, &committed); err != nil {
			return fmt.Errorf("fake restore %s line %d %q: %w", table, n+1, line, err)
		}
	}
	if !committed {
		return fmt.Errorf("fake restore %s: no COMMIT", table)
	}
	f.tables[table] = work
	f.restores = append(f.restores, FakeRestore{Table: table, Data: bytes.Clone(data)})
	return nil
}

func (t *fakeTable) clone() *fakeTable {
	c := &fakeTable{builtin: t.builtin, chains: make(map[string][]string, len(t.chains))}
	for k, v := range t.chains {
		c.chains[k] = v // rule slices are replaced, never mutated in place
	}
	return c
}

func (t *fakeTable) apply(table, line string, committed *bool) error {
	if *committed && line != "" {
		return fmt.Errorf("input after COMMIT")
	}
	switch {
	case line == "" || strings.HasPrefix(line, "#"):
	case strings.HasPrefix(line, "*"):
		if line[1:] != table {
			return fmt.Errorf("table %s in input for %s", line[1:], table)
		}
	case line == "COMMIT":
		*committed = true
	case strings.HasPrefix(line, ":"):
		name, _, _ := strings.Cut(line[1:], " ")
		if !t.builtin[name] {
			t.chains[name] = nil // create or flush
		}
	case strings.HasPrefix(line, "-A ") || strings.HasPrefix(line, "-I ") || strings.HasPrefix(line, "-D "):
		chain, rule, _ := strings.Cut(line[3:], " ")
		rules, ok := t.chains[chain]
		if !ok {
			return fmt.Errorf("no chain %s", chain)
		}
		if target := ruleTarget(rule); target != "" && !standardTargets[target] {
			if _, ok := t.chains[target]; !ok {
				return fmt.Errorf("jump to missing chain %s", target)
			}
		}
		switch line[:2] {
		case "-A":
			t.chains[chain] = append(slices.Clip(rules), rule)
		case "-I":
			t.chains[chain] = append([]string{rule}, rules...)
		case "-D":
			i := slices.Index(rules, rule)
			if i < 0 {
				return fmt.Errorf("no such rule in %s", chain)
			}
			t.chains[chain] = slices.Delete(slices.Clone(rules), i, i+1)
		}
	case strings.HasPrefix(line, "-X "):
		chain := strings.TrimSpace(line[3:])
		rules, ok := t.chains[chain]
		switch {
		case !ok:
			return fmt.Errorf("no chain %s", chain)
		case t.builtin[chain]:
			return fmt.Errorf("cannot delete built-in chain %s", chain)
		case len(rules) > 0:
			return fmt.Errorf("chain %s is not empty", chain)
		}
		for c, rs := range t.chains {
			for _, r := range rs {
				if ruleTarget(r) == chain {
					return fmt.Errorf("chain %s is referenced from %s", chain, c)
				}
			}
		}
		delete(t.chains, chain)
	default:
		return fmt.Errorf("unsupported line")
	}
	return nil
}

// ruleTarget returns the -j/-g target of a rule, or "".
func ruleTarget(rule string) string {
	f := strings.Fields(rule)
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "-j" || f[i] == "-g" {
			return f[i+1]
		}
	}
	return ""
}

// Save implements Runner, in iptables-save's format.
func (f *FakeRunner) Save(table string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tables[table]
	if !ok {
		return nil, fmt.Errorf("fake save: unknown table %q", table)
	}
	names := slices.SortedFunc(maps.Keys(t.chains), func(a, b string) int {
		if t.builtin[a] != t.builtin[b] {
			if t.builtin[a] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var b bytes.Buffer
	b.WriteString("*" + table + "\n")
	for _, c := range names {
		if t.builtin[c] {
			b.WriteString(":" + c + " ACCEPT [0:0]\n")
		} else {
			b.WriteString(":" + c + " - [0:0]\n")
		}
	}
	for _, c := range names {
		for _, r := range t.chains[c] {
			b.WriteString("-A " + c + " " + r + "\n")
		}
	}
	b.WriteString("COMMIT\n")
	return b.Bytes(), nil
}

// EnsureChain implements Runner.
func (f *FakeRunner) EnsureChain(table, chain string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tables[table]
	if !ok {
		return fmt.Errorf("fake: unknown table %q", table)
	}
	if _, ok := t.chains[chain]; !ok {
		t.chains[chain] = nil
	}
	return nil
}

// EnsureRule implements Runner.
func (f *FakeRunner) EnsureRule(table, chain string, rule ...string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t, ok := f.tables[table]
	if !ok {
		return false, fmt.Errorf("fake: unknown table %q", table)
	}
	rules, ok := t.chains[chain]
	if !ok {
		return false, fmt.Errorf("fake: no chain %s/%s", table, chain)
	}
	r := joinRule(rule)
	if slices.Contains(rules, r) {
		return true, nil
	}
	if target := ruleTarget(r); target != "" && !standardTargets[target] {
		if _, ok := t.chains[target]; !ok {
			return false, fmt.Errorf("fake: jump to missing chain %s", target)
		}
	}
	t.chains[chain] = append([]string{r}, rules...)
	return false, nil
}

// SetSysctl implements Runner.
func (f *FakeRunner) SetSysctl(name, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sysctls[name] = value
	return nil
}
