package printers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"sigs.k8s.io/yaml"

	"github.com/strom-project/strom/events/objects"
)

// PrintJSON writes objects as `kubectl get -o json` does: one object alone,
// or a v1 List when there are several or asList is set. Keys are sorted
// and indented by four spaces, as kubectl prints them.
func PrintJSON(w io.Writer, objs []objects.Object, asList bool) error {
	doc, err := document(objs, asList)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		return fmt.Errorf("encoding JSON: %w", err)
	}
	if _, err := w.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("writing JSON: %w", err)
	}
	return nil
}

// PrintYAML is PrintJSON in YAML.
func PrintYAML(w io.Writer, objs []objects.Object, asList bool) error {
	doc, err := document(objs, asList)
	if err != nil {
		return err
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return fmt.Errorf("encoding YAML: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("writing YAML: %w", err)
	}
	return nil
}

// document is what gets printed: the single object, or a List.
func document(objs []objects.Object, asList bool) (any, error) {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		m, err := toMap(o)
		if err != nil {
			return nil, err
		}
		items = append(items, m)
	}
	if len(items) == 1 && !asList {
		return items[0], nil
	}
	return map[string]any{
		"apiVersion": "v1",
		"kind":       "List",
		"items":      items,
		"metadata":   map[string]any{"resourceVersion": ""},
	}, nil
}

// toMap turns an object into a generic map with apiVersion and kind set,
// without touching the object, and drops managedFields as kubectl does by
// default. Numbers stay json.Number so large integers keep every digit.
func toMap(o objects.Object) (map[string]any, error) {
	k, err := objects.KindOf(o)
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("encoding %s %s: %w", k.Singular, o.GetName(), err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", k.Singular, o.GetName(), err)
	}
	m["apiVersion"] = k.APIVersion()
	m["kind"] = k.Kind
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "managedFields")
	}
	return m, nil
}
