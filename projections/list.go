package projections

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
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

// SupportedFields are the field selector keys every resource's lists
// accept: Kubernetes' metadata.name and metadata.namespace, and the
// fields the view indexes.
var SupportedFields = []string{"metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "metadata.ownerReferences.uid"}

// ObjectFields are the further field selector keys Kubernetes supports
// per resource (its registries' GetAttrs), read from the stored object.
// A field the object leaves out reads as its zero value, as in
// Kubernetes ("" for strings, "false", "0").
var ObjectFields = map[string][]string{
	"pods": {"spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork",
		"status.phase", "status.podIP", "status.nominatedNodeName"},
	"events": {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
		"involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
		"reason", "reportingComponent", "source", "type"},
	"secrets":                    {"type"},
	"namespaces":                 {"status.phase"},
	"nodes":                      {"spec.unschedulable"},
	"replicasets":                {"status.replicas"},
	"replicationcontrollers":     {"status.replicas"},
	"jobs":                       {"status.successful"},
	"certificatesigningrequests": {"spec.signerName"},
	"clustertrustbundles":        {"spec.signerName"},
	"podcertificaterequests":     {"spec.signerName", "spec.podName"},
	"resourceslices":             {"spec.driver"},
}

// objectFieldPath maps a selector key to its place in the object's JSON
// where the two differ; objectFieldZero is a key's value when the object
// leaves the field out ("" when not listed).
var (
	objectFieldPath = map[string]string{"source": "source.component", "status.successful": "status.succeeded"}
	objectFieldZero = map[string]string{"spec.hostNetwork": "false", "spec.unschedulable": "false",
		"status.replicas": "0", "status.successful": "0"}
)

// ParseFieldSelector parses a field selector for lists of resource and
// checks every key is one it supports (SupportedFields, ObjectFields).
func ParseFieldSelector(resource, s string) (fields.Selector, error) {
	if s == "" {
		return nil, nil
	}
	sel, err := fields.ParseSelector(s)
	if err != nil {
		return nil, fmt.Errorf("field selector %q: %w", s, err)
	}
	for _, r := range sel.Requirements() {
		if !slices.Contains(SupportedFields, r.Field) && !slices.Contains(ObjectFields[resource], r.Field) {
			supported := append(slices.Clone(SupportedFields), ObjectFields[resource]...)
			return nil, fmt.Errorf("field selector %q: field %q is not supported for %s (supported: %s)", s, r.Field, resource, strings.Join(supported, ", "))
		}
	}
	return sel, nil
}

// fieldSet is what field selectors see of an entry; obj is its decoded
// JSON, read once, only when an object field is asked for.
type fieldSet struct {
	e   *Entry
	obj map[string]any
	bad bool // the JSON could not be decoded (e.g. a sealed Secret)
}

func (f *fieldSet) Has(field string) bool { _, ok := f.lookup(field); return ok }
func (f *fieldSet) Get(field string) string {
	v, _ := f.lookup(field)
	return v
}

func (f *fieldSet) lookup(field string) (string, bool) {
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
	if !slices.Contains(ObjectFields[f.e.Resource], field) {
		return "", false
	}
	return f.objectField(field), true
}

// objectField reads a field from the object's JSON, formatted as
// Kubernetes formats selectable fields.
func (f *fieldSet) objectField(field string) string {
	if f.obj == nil && !f.bad {
		if err := json.Unmarshal(f.e.Data, &f.obj); err != nil || f.obj == nil {
			f.bad = true
		}
	}
	path := field
	if p, ok := objectFieldPath[field]; ok {
		path = p
	}
	var v any = f.obj
	for _, part := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			v = nil
			break
		}
		v = m[part]
	}
	switch x := v.(type) {
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return objectFieldZero[field]
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
		fs := &fieldSet{e: e}
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
			v := fs.Get(r.Field)
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
