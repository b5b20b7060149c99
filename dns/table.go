package dns

import (
	"errors"
	"fmt"
	"sort"

	mdns "github.com/miekg/dns"
)

// table turns per-owner contributions into published nodes. It is owned by
// the Store's writer lock; it only computes, the Store publishes.
type table struct {
	z        zoneInfo
	contribs map[key]contribution
	// owners[name] are the owners with records at name.
	owners map[string]map[key]struct{}
	// refs[name] counts the mentions of name, as a record owner, as an
	// explicit empty non-terminal, or as an ancestor of either inside the
	// zone. A name exists while its count is positive.
	refs map[string]int
	neg  negativeAnswers
}

func newTable(z zoneInfo) (*table, error) {
	neg, err := z.buildNegative()
	if err != nil {
		return nil, err
	}
	return &table{
		z:        z,
		contribs: map[key]contribution{},
		owners:   map[string]map[key]struct{}{},
		refs:     map[string]int{},
		neg:      neg,
	}, nil
}

// nodeChange is one publication: node nil means the name no longer exists.
type nodeChange struct {
	name string
	node *node
}

// apply replaces the contribution of k (nil removes it) and returns the
// node changes to publish.
func (t *table) apply(k key, c *contribution) ([]nodeChange, error) {
	old, hadOld := t.contribs[k]
	touched := map[string]bool{} // name → its records changed
	if hadOld {
		for name, s := range old.names {
			var ns *rrset
			if c != nil {
				ns = c.names[name]
			}
			if !rrsetEqual(s, ns) {
				touched[name] = true
			}
			delete(t.owners[name], k)
			if len(t.owners[name]) == 0 {
				delete(t.owners, name)
			}
			t.unref(name, touched)
		}
		for _, name := range old.ents {
			t.unref(name, touched)
		}
		delete(t.contribs, k)
	}
	if c != nil {
		for name, s := range c.names {
			if !hadOld || !rrsetEqual(old.names[name], s) {
				touched[name] = true
			}
			if t.owners[name] == nil {
				t.owners[name] = map[key]struct{}{}
			}
			t.owners[name][k] = struct{}{}
			t.ref(name, touched)
		}
		for _, name := range c.ents {
			t.ref(name, touched)
		}
		t.contribs[k] = *c
	}
	// A name whose node cannot be built keeps its old node; the others
	// are still published, and the error is reported.
	changes := make([]nodeChange, 0, len(touched))
	var errs []error
	for name, recordsChanged := range touched {
		ch, publish, err := t.refresh(name, recordsChanged)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if publish {
			changes = append(changes, ch)
		}
	}
	return changes, errors.Join(errs...)
}

// ref counts a mention of name and of its ancestors inside the zone, and
// marks names whose existence may change.
func (t *table) ref(name string, touched map[string]bool) {
	t.walkUp(name, func(n string) {
		t.refs[n]++
		if t.refs[n] == 1 {
			markExistence(touched, n)
		}
	})
}

func (t *table) unref(name string, touched map[string]bool) {
	t.walkUp(name, func(n string) {
		t.refs[n]--
		if t.refs[n] <= 0 {
			delete(t.refs, n)
			markExistence(touched, n)
		}
	})
}

// markExistence notes that the existence of n may have changed, without
// claiming its records did.
func markExistence(touched map[string]bool, n string) {
	if _, ok := touched[n]; !ok {
		touched[n] = false
	}
}

// walkUp calls f for name and, when name is inside the zone, each ancestor
// up to and including the zone apex.
func (t *table) walkUp(name string, f func(string)) {
	f(name)
	if !inZone(name, t.z.zone) {
		return
	}
	for n := name; n != t.z.zone; {
		i := indexDot(n)
		if i < 0 {
			return
		}
		n = n[i+1:]
		f(n)
	}
}

// indexDot finds the end of the first label (names here have no escapes).
func indexDot(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return i
		}
	}
	return -1
}

// refresh recomputes the node of name. A name whose records did not change
// and whose existence did not flip needs no publication.
func (t *table) refresh(name string, recordsChanged bool) (nodeChange, bool, error) {
	if t.refs[name] <= 0 {
		return nodeChange{name: name}, true, nil
	}
	owners := t.owners[name]
	if len(owners) == 0 {
		return nodeChange{name: name, node: t.neg.ent}, true, nil
	}
	if !recordsChanged {
		// Existence may have flipped from absent to present with
		// records unchanged only if the records are new, which sets
		// recordsChanged; nothing to do.
		return nodeChange{}, false, nil
	}
	keys := make([]key, 0, len(owners))
	for k := range owners {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	sets := make([]*rrset, 0, len(keys))
	for _, k := range keys {
		sets = append(sets, t.contribs[k].names[name])
	}
	n, err := t.z.buildNode(name, sets)
	if err != nil {
		return nodeChange{}, false, fmt.Errorf("building records of %s: %w", name, err)
	}
	return nodeChange{name: name, node: n}, true, nil
}

func rrsetEqual(a, b *rrset) bool {
	if a == nil || b == nil {
		return a == b
	}
	return rrsEqual(a.rrs, b.rrs) && rrsEqual(a.extra, b.extra)
}

func rrsEqual(a, b []mdns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !mdns.IsDuplicate(a[i], b[i]) || a[i].Header().Ttl != b[i].Header().Ttl {
			return false
		}
	}
	return true
}
