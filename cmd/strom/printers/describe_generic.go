package printers

import (
	"fmt"
	"strings"
	"unicode"

	"sigs.k8s.io/yaml"

	"github.com/strom-project/strom/events/objects"
)

// generic describes kinds without a page of their own: metadata, then each
// top-level field ("Spec", "Status", "Rules", "Role Ref") with scalars
// inline and structures as indented YAML, then events.
func (d *describer) generic(o objects.Object) error {
	k, err := objects.KindOf(o)
	if err != nil {
		return err
	}
	m, err := toMap(o)
	if err != nil {
		return err
	}
	d.w(0, "Name:\t%s\n", o.GetName())
	if k.Namespaced {
		d.w(0, "Namespace:\t%s\n", o.GetNamespace())
	}
	d.labels("", "Labels", o.GetLabels())
	d.annotations("", "Annotations", o.GetAnnotations())
	d.w(0, "API Version:\t%s\n", k.APIVersion())
	d.w(0, "Kind:\t%s\n", k.Kind)
	d.w(0, "CreationTimestamp:\t%s\n", rfc1123(o.GetCreationTimestamp()))
	if c := controllerOf(o); c != "" {
		d.w(0, "Controlled By:\t%s\n", c)
	}
	for _, key := range sortedKeys(m) {
		switch key {
		case "apiVersion", "kind", "metadata":
			continue
		}
		v := m[key]
		if isEmptyValue(v) {
			continue
		}
		title := fieldTitle(key)
		switch v.(type) {
		case map[string]any, []any:
			data, err := yaml.Marshal(v)
			if err != nil {
				return fmt.Errorf("encoding %s: %w", key, err)
			}
			d.flush()
			d.w(0, "%s:\n", title)
			d.raw(indentLines(string(data), "  "))
		default:
			d.w(0, "%s:\t%v\n", title, v)
		}
	}
	d.events()
	return nil
}

func isEmptyValue(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	}
	return false
}

// fieldTitle turns "involvedObject" into "Involved Object".
func fieldTitle(key string) string {
	var b strings.Builder
	for i, r := range key {
		if i == 0 {
			b.WriteRune(unicode.ToUpper(r))
			continue
		}
		if unicode.IsUpper(r) && !unicode.IsUpper(rune(key[i-1])) {
			b.WriteRune(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func indentLines(s, indent string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l == "" {
			continue
		}
		if l != "\n" {
			b.WriteString(indent)
		}
		b.WriteString(l)
	}
	return b.String()
}
