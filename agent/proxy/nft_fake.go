package proxy

import (
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// FakeNFT is an in-memory NFTRunner for unit tests. It understands the
// statements the nftables mode writes (tables, chains, maps, sets, rules,
// elements; add, flush, delete) and checks what the kernel would refuse:
// objects used before they exist, deleting a chain or set still
// referenced, adding an element whose key holds another value, deleting
// an element that is not there. A script applies atomically: on any
// error nothing changes.
type FakeNFT struct {
	mu      sync.Mutex
	t       *fakeNFTTable // nil: no table
	applied [][]byte
	// FailNext makes the next Apply fail with this error (once).
	FailNext error
}

type fakeNFTTable struct {
	chains map[string][]string
	sets   map[string]map[string]string // set -> key -> value ("" for plain sets)
}

func (t *fakeNFTTable) clone() *fakeNFTTable {
	if t == nil {
		return nil
	}
	c := &fakeNFTTable{chains: map[string][]string{}, sets: map[string]map[string]string{}}
	for k, v := range t.chains {
		c.chains[k] = slices.Clone(v)
	}
	for k, v := range t.sets {
		c.sets[k] = maps.Clone(v)
	}
	return c
}

// NewFakeNFT returns an empty fake.
func NewFakeNFT() *FakeNFT { return &FakeNFT{} }

// Scripts returns every script applied successfully, oldest first.
func (f *FakeNFT) Scripts() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.applied)
}

// Apply implements NFTRunner.
func (f *FakeNFT) Apply(script []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.FailNext; err != nil {
		f.FailNext = nil
		return err
	}
	t := f.t.clone()
	for i, line := range strings.Split(strings.TrimRight(string(script), "\n"), "\n") {
		var err error
		if t, err = fakeNFTStatement(t, line); err != nil {
			return fmt.Errorf("line %d %q: %w", i+1, line, err)
		}
	}
	f.t = t
	f.applied = append(f.applied, slices.Clone(script))
	return nil
}

// DeleteTable implements NFTRunner.
func (f *FakeNFT) DeleteTable() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = nil
	return nil
}

// SetSysctl implements NFTRunner; it does nothing.
func (f *FakeNFT) SetSysctl(name, value string) error { return nil }

// Exists tells whether the table exists.
func (f *FakeNFT) Exists() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t != nil
}

// Dump prints the table canonically: chains with their rules, then sets
// with sorted elements. With skipUnused, per-count chains nothing points
// at (incremental syncs leave them; full syncs remove them) are left out.
func (f *FakeNFT) Dump(skipUnused bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.t == nil {
		return "<no table>\n"
	}
	t := f.t
	if skipUnused {
		t = t.clone()
		for again := true; again; {
			again = false
			for c := range t.chains {
				if _, _, count := nftCountChain(c, Config{PodCIDR: netip.MustParsePrefix("10.0.0.0/8")}); count && !t.chainUsed(c) {
					delete(t.chains, c)
					again = true
				}
			}
		}
	}
	var b strings.Builder
	for _, c := range sortedKeys(t.chains) {
		b.WriteString("chain " + c + "\n")
		for _, r := range t.chains[c] {
			b.WriteString("  " + r + "\n")
		}
	}
	for _, s := range sortedKeys(t.sets) {
		b.WriteString("set " + s + "\n")
		for _, k := range sortedKeys(t.sets[s]) {
			if v := t.sets[s][k]; v != "" {
				b.WriteString("  " + k + " : " + v + "\n")
			} else {
				b.WriteString("  " + k + "\n")
			}
		}
	}
	return b.String()
}

var (
	fakeNFTObj   = regexp.MustCompile(`^(add|flush|delete) (table|chain|map|set) ip ` + NFTTable + `(?: ([^ {]+))?(?: \{.*\})?$`)
	fakeNFTRule  = regexp.MustCompile(`^add rule ip ` + NFTTable + ` ([^ ]+) (.+)$`)
	fakeNFTElems = regexp.MustCompile(`^(add|delete) element ip ` + NFTTable + ` ([^ ]+) \{ (.*) \}$`)
	fakeNFTRefs  = regexp.MustCompile(`(?:goto|jump) ([^ ,}]+)`)
	fakeNFTSets  = regexp.MustCompile(`@([^ ,}]+)`)
)

func (t *fakeNFTTable) chainUsed(chain string) bool {
	for _, rules := range t.chains {
		for _, r := range rules {
			for _, m := range fakeNFTRefs.FindAllStringSubmatch(r, -1) {
				if m[1] == chain {
					return true
				}
			}
		}
	}
	for _, elems := range t.sets {
		for _, v := range elems {
			if v == "goto "+chain || v == "jump "+chain {
				return true
			}
		}
	}
	return false
}

func (t *fakeNFTTable) setUsed(set string) bool {
	for _, rules := range t.chains {
		for _, r := range rules {
			for _, m := range fakeNFTSets.FindAllStringSubmatch(r, -1) {
				if m[1] == set {
					return true
				}
			}
		}
	}
	return false
}

func fakeNFTStatement(t *fakeNFTTable, line string) (*fakeNFTTable, error) {
	if m := fakeNFTRule.FindStringSubmatch(line); m != nil {
		if t == nil {
			return t, fmt.Errorf("no table")
		}
		if _, ok := t.chains[m[1]]; !ok {
			return t, fmt.Errorf("no chain %s", m[1])
		}
		for _, r := range fakeNFTRefs.FindAllStringSubmatch(m[2], -1) {
			if _, ok := t.chains[r[1]]; !ok {
				return t, fmt.Errorf("rule jumps to missing chain %s", r[1])
			}
		}
		for _, r := range fakeNFTSets.FindAllStringSubmatch(m[2], -1) {
			if _, ok := t.sets[r[1]]; !ok {
				return t, fmt.Errorf("rule uses missing set %s", r[1])
			}
		}
		t.chains[m[1]] = append(t.chains[m[1]], m[2])
		return t, nil
	}
	if m := fakeNFTElems.FindStringSubmatch(line); m != nil {
		if t == nil {
			return t, fmt.Errorf("no table")
		}
		set, ok := t.sets[m[2]]
		if !ok {
			return t, fmt.Errorf("no set %s", m[2])
		}
		for _, e := range strings.Split(m[3], ", ") {
			k, v, _ := strings.Cut(e, " : ")
			old, exists := set[k]
			if m[1] == "delete" {
				if !exists {
					return t, fmt.Errorf("delete of missing element %q in %s", k, m[2])
				}
				delete(set, k)
				continue
			}
			if exists && old != v {
				return t, fmt.Errorf("element %q in %s exists with %q, not %q", k, m[2], old, v)
			}
			if c, ok := strings.CutPrefix(v, "goto "); ok {
				if _, ok := t.chains[c]; !ok {
					return t, fmt.Errorf("element %q points at missing chain %s", k, c)
				}
			}
			set[k] = v
		}
		return t, nil
	}
	m := fakeNFTObj.FindStringSubmatch(line)
	if m == nil {
		return t, fmt.Errorf("statement not understood by the fake")
	}
	verb, kind, name := m[1], m[2], m[3]
	if kind == "table" {
		switch verb {
		case "add":
			if t == nil {
				t = &fakeNFTTable{chains: map[string][]string{}, sets: map[string]map[string]string{}}
			}
		case "delete":
			if t == nil {
				return t, fmt.Errorf("delete of missing table")
			}
			t = nil
		default:
			if t == nil {
				return t, fmt.Errorf("flush of missing table")
			}
			for c := range t.chains {
				t.chains[c] = nil
			}
		}
		return t, nil
	}
	if t == nil {
		return t, fmt.Errorf("no table")
	}
	if kind == "chain" {
		_, exists := t.chains[name]
		switch verb {
		case "add":
			if !exists {
				t.chains[name] = nil
			}
		case "flush":
			if !exists {
				return t, fmt.Errorf("flush of missing chain %s", name)
			}
			t.chains[name] = nil
		case "delete":
			if !exists {
				return t, fmt.Errorf("delete of missing chain %s", name)
			}
			if len(t.chains[name]) > 0 {
				return t, fmt.Errorf("delete of chain %s that still has rules", name)
			}
			if t.chainUsed(name) {
				return t, fmt.Errorf("delete of chain %s still referenced", name)
			}
			delete(t.chains, name)
		}
		return t, nil
	}
	_, exists := t.sets[name]
	switch verb {
	case "add":
		if !exists {
			t.sets[name] = map[string]string{}
		}
	case "flush":
		if !exists {
			return t, fmt.Errorf("flush of missing set %s", name)
		}
		clear(t.sets[name])
	case "delete":
		if !exists {
			return t, fmt.Errorf("delete of missing set %s", name)
		}
		if t.setUsed(name) {
			return t, fmt.Errorf("delete of set %s still referenced", name)
		}
		delete(t.sets, name)
	}
	return t, nil
}
