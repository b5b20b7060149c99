package projections

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// DiffOptions narrow a diff.
type DiffOptions struct {
	Resource  string // "" for every resource
	Namespace string // "" for every namespace
	Name      string
	// ShowMetadata keeps the bookkeeping fields (resourceVersion,
	// generation, managedFields) that change with every write.
	ShowMetadata bool
}

// metadataNoise are paths left out of field diffs unless asked for.
var metadataNoise = map[string]bool{
	"metadata.resourceVersion": true,
	"metadata.generation":      true,
	"metadata.managedFields":   true,
	"metadata.selfLink":        true,
}

// Diff compares two views: objects created, deleted and changed from a to
// b, sorted by resource, namespace and name. Entries with the same
// resourceVersion are the same state and are not decoded at all, so a
// diff costs in proportion to what changed.
func Diff(a, b *Store, o DiffOptions) []api.ObjectDiff {
	resources := map[string]bool{}
	for _, st := range []*Store{a, b} {
		st.mu.RLock()
		for r := range st.tables {
			resources[r] = true
		}
		st.mu.RUnlock()
	}
	var out []api.ObjectDiff
	for _, res := range events.SortedKeys(resources) {
		if o.Resource != "" && res != o.Resource {
			continue
		}
		q := Query{Resource: res, Namespace: o.Namespace}
		ea, _ := a.List(q)
		eb, _ := b.List(q)
		byKey := make(map[string]*Entry, len(eb))
		for _, e := range eb {
			byKey[e.Key()] = e
		}
		seen := make(map[string]bool, len(ea))
		for _, e := range ea {
			if o.Name != "" && e.Name != o.Name {
				continue
			}
			seen[e.Key()] = true
			n, ok := byKey[e.Key()]
			if !ok {
				out = append(out, api.ObjectDiff{Resource: res, Namespace: e.Namespace, Name: e.Name, Change: api.ChangeDeleted, FromSeq: e.Seq})
				continue
			}
			if n.Seq == e.Seq {
				continue
			}
			fields := FieldDiff(res, e.Data, n.Data, o.ShowMetadata)
			if len(fields) == 0 && !o.ShowMetadata {
				continue // only bookkeeping changed
			}
			out = append(out, api.ObjectDiff{Resource: res, Namespace: e.Namespace, Name: e.Name, Change: api.ChangeChanged, FromSeq: e.Seq, ToSeq: n.Seq, Fields: fields})
		}
		for _, e := range eb {
			if (o.Name != "" && e.Name != o.Name) || seen[e.Key()] {
				continue
			}
			out = append(out, api.ObjectDiff{Resource: res, Namespace: e.Namespace, Name: e.Name, Change: api.ChangeCreated, ToSeq: e.Seq})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		x, y := out[i], out[j]
		if x.Resource != y.Resource {
			return x.Resource < y.Resource
		}
		if x.Namespace != y.Namespace {
			return x.Namespace < y.Namespace
		}
		return x.Name < y.Name
	})
	return out
}

// FieldDiff compares two JSON documents of one resource field by field.
// Secret values are compared but never shown: both sides read
// events.Redacted.
func FieldDiff(resource string, a, b []byte, showMetadata bool) []api.FieldChange {
	var va, vb any
	_ = json.Unmarshal(a, &va)
	_ = json.Unmarshal(b, &vb)
	d := &differ{secret: events.IsSecret(resource), showMeta: showMetadata}
	d.walk("", va, vb)
	return d.out
}

type differ struct {
	secret, showMeta bool
	out              []api.FieldChange
}

func childPath(parent, key string) string {
	if strings.ContainsAny(key, ".[]'") || key == "" {
		return parent + "['" + key + "']"
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func (d *differ) walk(path string, a, b any) {
	if !d.showMeta && metadataNoise[path] {
		return
	}
	ma, aIsMap := a.(map[string]any)
	mb, bIsMap := b.(map[string]any)
	if aIsMap && bIsMap {
		keys := map[string]bool{}
		for k := range ma {
			keys[k] = true
		}
		for k := range mb {
			keys[k] = true
		}
		for _, k := range events.SortedKeys(keys) {
			va, okA := ma[k]
			vb, okB := mb[k]
			p := childPath(path, k)
			switch {
			case okA && okB:
				d.walk(p, va, vb)
			case okA:
				d.add(p, "-", va, nil)
			default:
				d.add(p, "+", nil, vb)
			}
		}
		return
	}
	la, aIsList := a.([]any)
	lb, bIsList := b.([]any)
	if aIsList && bIsList {
		for i := 0; i < len(la) || i < len(lb); i++ {
			p := path + "[" + strconv.Itoa(i) + "]"
			switch {
			case i < len(la) && i < len(lb):
				d.walk(p, la[i], lb[i])
			case i < len(la):
				d.add(p, "-", la[i], nil)
			default:
				d.add(p, "+", nil, lb[i])
			}
		}
		return
	}
	if !reflect.DeepEqual(a, b) {
		d.add(path, "~", a, b)
	}
}

func (d *differ) add(path, op string, old, new any) {
	if !d.showMeta && metadataNoise[path] {
		return
	}
	if d.secret && (strings.HasPrefix(path, "data") || strings.HasPrefix(path, "stringData")) {
		if old != nil {
			old = redactValue(old)
		}
		if new != nil {
			new = redactValue(new)
		}
	}
	fc := api.FieldChange{Path: path, Op: op}
	if old != nil || op != "+" {
		fc.Old = marshalValue(old)
	}
	if new != nil || op != "-" {
		fc.New = marshalValue(new)
	}
	d.out = append(d.out, fc)
}

// redactValue hides a secret value, keeping a map's keys.
func redactValue(v any) any {
	if m, ok := v.(map[string]any); ok {
		out := make(map[string]any, len(m))
		for k := range m {
			out[k] = events.Redacted
		}
		return out
	}
	return events.Redacted
}

// marshalValue encodes a value without escaping <, > and &, so that
// values read as they are written.
func marshalValue(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage(`null`)
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}
