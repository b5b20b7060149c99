package proxy

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
)

// ensureHooks creates the fixed chains and the jumps into them from the
// built-in chains. It is idempotent: rules already present are left alone.
func ensureHooks(r Runner) error {
	for _, table := range []string{"nat", "filter"} {
		for _, c := range topChains[table] {
			if err := r.EnsureChain(table, c); err != nil {
				return fmt.Errorf("ensuring chain %s/%s: %w", table, c, err)
			}
		}
	}
	// Each rule goes to the top of its chain: insert in reverse so they
	// end up in list order.
	for i := len(hooks) - 1; i >= 0; i-- {
		h := hooks[i]
		if _, err := r.EnsureRule(h.table, h.chain, h.rule...); err != nil {
			return fmt.Errorf("ensuring jump in %s/%s: %w", h.table, h.chain, err)
		}
	}
	return nil
}

// Cleanup removes every rule and chain the proxy owns: the jumps from
// built-in chains (whatever their exact form, found by their STROM-
// target) and every STROM- chain, in one restore transaction per table.
// Running it when nothing is left is a no-op.
func Cleanup(r Runner) error {
	for _, table := range []string{"filter", "nat"} {
		saved, err := r.Save(table)
		if err != nil {
			return fmt.Errorf("cleanup: saving %s: %w", table, err)
		}
		data := cleanupInput(table, saved)
		if data == nil {
			continue
		}
		if err := r.Restore(table, data); err != nil {
			return fmt.Errorf("cleanup: restoring %s: %w", table, err)
		}
	}
	return nil
}

// cleanupInput turns iptables-save output into restore input that
// removes every owned chain and every rule jumping into one. It returns
// nil when there is nothing to remove.
func cleanupInput(table string, saved []byte) []byte {
	var owned, dels []string
	for _, line := range strings.Split(string(saved), "\n") {
		switch {
		case strings.HasPrefix(line, ":"):
			name, _, _ := strings.Cut(line[1:], " ")
			if isOwnedChain(name) {
				owned = append(owned, name)
			}
		case strings.HasPrefix(line, "-A "):
			chain, rest, _ := strings.Cut(line[3:], " ")
			if !isOwnedChain(chain) && jumpsToOwned(rest) {
				dels = append(dels, "-D "+chain+" "+rest)
			}
		}
	}
	if len(owned) == 0 && len(dels) == 0 {
		return nil
	}
	slices.Sort(owned)
	var b bytes.Buffer
	b.WriteString("*" + table + "\n")
	for _, c := range owned {
		declare(&b, c)
	}
	for _, d := range dels {
		b.WriteString(d + "\n")
	}
	for _, c := range owned {
		b.WriteString("-X " + c + "\n")
	}
	b.WriteString("COMMIT\n")
	return b.Bytes()
}

// jumpsToOwned tells whether a rule's target is an owned chain.
func jumpsToOwned(rule string) bool {
	f := strings.Fields(rule)
	for i := 0; i+1 < len(f); i++ {
		if (f[i] == "-j" || f[i] == "-g" || f[i] == "--jump" || f[i] == "--goto") && isOwnedChain(f[i+1]) {
			return true
		}
	}
	return false
}
