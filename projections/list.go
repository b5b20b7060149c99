package projections

import (
	"fmt"
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
	candidates := s.candidatesLocked(t, q)
	var out []*Entry
	for _, e := range candidates {
		if q.Matches(e) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	if q.Continue != "" {
		i := sort.Search(len(out), func(i int) bool { return out[i].Key() > q.Continue })
		out = out[i:]
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
		return out, out[len(out)-1].Key()
	}
	return out, ""
}

// candidatesLocked narrows the scan with an index when the query allows.
func (s *Store) candidatesLocked(t *table, q Query) []*Entry {
	var out []*Entry
	if q.Fields != nil {
		for _, r := range q.Fields.Requirements() {
			if r.Operator == "!=" {
				continue
			}
			switch r.Field {
			case "spec.nodeName":
				if r.Value != "" {
					for _, e := range t.byNode[r.Value] {
						out = append(out, e)
					}
					return out
				}
			case "metadata.ownerReferences.uid":
				for _, e := range t.byOwner[r.Value] {
					out = append(out, e)
				}
				return out
			}
		}
	}
	if q.Namespace != "" {
		for _, e := range t.byNS[q.Namespace] {
			out = append(out, e)
		}
		return out
	}
	out = make([]*Entry, 0, t.count)
	for _, m := range t.byNS {
		for _, e := range m {
			out = append(out, e)
		}
	}
	return out
}
