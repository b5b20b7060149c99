package projections

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
)

// Query selects entries of one resource.
type Query struct {
	Resource  string
	Namespace string          // "" for every namespace (or cluster-scoped)
	Labels    labels.Selector // nil matches everything
	Fields    fields.Selector // nil matches everything; see FieldSet
	Limit     int             // 0: no limit
	Continue  string          // resume after this key (from a previous page)
}

// SupportedFields are the field selector keys lists accept.
var SupportedFields = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "metadata.ownerReferences.uid"}

// ParseFieldSelector parses a field selector and checks every key is one
// the view indexes.
func ParseFieldSelector(s string) (fields.Selector, error) {
	if s == "" {
		return nil, nil
	}
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, fmt.Errorf("field selector %q: %w", s, err)
	}
	for _, r := range sel.Requirements() {
		ok := false
		for _, f := range SupportedFields {
			ok = ok || r.Field == f
		}
		if !ok {
			return nil, fmt.Errorf("field selector %q: field %q is not supported (supported: %s)", s, r.Field, strings.Join(SupportedFields, ", "))
		}
	}
	return sel, nil
}

// fieldSet is what field selectors see of an entry.
type fieldSet struct{ e *Entry }

func (f fieldSet) Has(field string) bool { _, ok := f.lookup(field); return ok }
func (f fieldSet) Get(field string) string {
	v, _ := f.lookup(field)
	return v
}

func (f fieldSet) lookup(field string) (string, bool) {
	switch field {
	case "metadata.name":
		return f.e.Name, true
	case "metadata.namespace":
		return f.e.Namespace, true
	case "metadata.uid":
		return f.e.UID, true
	case "spec.nodeName":
		return f.e.NodeName, true
	case "metadata.ownerReferences.uid":
		return strings.Join(f.e.Owners, ","), true
	}
	return "", false
}

// Matches reports whether an entry satisfies the query's selectors.
func (q *Query) Matches(e *Entry) bool {
	if q.Namespace != "" && e.Namespace != q.Namespace {
		return false
	}
	if q.Labels != nil && !q.Labels.Empty() && !q.Labels.Matches(labels.Set(e.Labels)) {
		return false
	}
	if q.Fields != nil && !q.Fields.Empty() {
		for _, r := range q.Fields.Requirements() {
			if r.Field == "metadata.ownerReferences.uid" {
				found := false
				for _, o := range e.Owners {
					found = found || o == r.Value
				}
				if found != (r.Operator != "!=") {
					return false
				}
				continue
			}
			v := fieldSet{e}.Get(r.Field)
			if (v == r.Value) != (r.Operator != "!=") {
				return false
			}
		}
	}
	return true
}

// List returns the entries a query selects, sorted by namespace and name,
// and the continue key when Limit cut the list short.
func (s *Store) List(q Query) ([]*Entry, string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.listLocked(q)
}

func (s *Store) listLocked(q Query) ([]*Entry, string) {
	t := s.tables[q.Resource]
	if t == nil {
		return nil, ""
	}
	sorted := t.sortedCandidates(q)
	start := 0
	if q.Continue != "" {
		// Keys order as (namespace, name), not as "ns/name" strings: "a-b/x"
		// sorts before "a/y" as a string but after it here.
		ns, name, ok := strings.Cut(q.Continue, "/")
		if !ok {
			ns, name = "", q.Continue
		}
		start = sort.Search(len(sorted), func(i int) bool {
			e := sorted[i]
			return e.Namespace > ns || (e.Namespace == ns && e.Name > name)
		})
	}
	var out []*Entry
	for _, e := range sorted[start:] {
		if !q.Matches(e) {
			continue
		}
		if q.Limit > 0 && len(out) == q.Limit {
			return out, out[len(out)-1].Key()
		}
		out = append(out, e)
	}
	return out, ""
}

// sortedCandidates is the entries a query may select, sorted by namespace
// and name. The order of a whole namespace (or of all) is kept until the
// table changes, so paging through a large list sorts it once, not once
// per page.
func (t *table) sortedCandidates(q Query) []*Entry {
	if idx := t.candidatesByIndex(q); idx != nil {
		sortEntries(idx)
		return idx
	}
	t.sortedMu.Lock()
	defer t.sortedMu.Unlock()
	if t.sortedGen != t.gen || t.sorted == nil {
		t.sorted, t.sortedGen = map[string][]*Entry{}, t.gen
	}
	if out, ok := t.sorted[q.Namespace]; ok {
		return out
	}
	var out []*Entry
	if q.Namespace != "" {
		out = make([]*Entry, 0, len(t.byNS[q.Namespace]))
		for _, e := range t.byNS[q.Namespace] {
			out = append(out, e)
		}
	} else {
		out = make([]*Entry, 0, t.count)
		for _, m := range t.byNS {
			for _, e := range m {
				out = append(out, e)
			}
		}
	}
	sortEntries(out)
	t.sorted[q.Namespace] = out
	return out
}

func sortEntries(es []*Entry) {
	slices.SortFunc(es, func(a, b *Entry) int {
		if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// candidatesByIndex narrows the scan with a field index when the query
// allows; nil when it does not.
func (t *table) candidatesByIndex(q Query) []*Entry {
	if q.Fields == nil {
		return nil
	}
	for _, r := range q.Fields.Requirements() {
		if r.Operator == "!=" {
			continue
		}
		var idx map[string]*Entry
		switch {
		case r.Field == "spec.nodeName" && r.Value != "":
			idx = t.byNode[r.Value]
		case r.Field == "metadata.ownerReferences.uid":
			idx = t.byOwner[r.Value]
		default:
			continue
		}
		out := make([]*Entry, 0, len(idx))
		for _, e := range idx {
			out = append(out, e)
		}
		return out
	}
	return nil
}
