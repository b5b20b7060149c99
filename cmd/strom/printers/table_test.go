package printers

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strom-project/strom/events/objects"
)

func allTableFixtures() map[string][]objects.Object {
	all := map[string][]objects.Object{"pod": fixturePods(), "node": fixtureNodes()}
	for _, m := range []map[string][]objects.Object{fixtureWorkloads(), fixtureCore(), fixtureStorage(), fixturePolicy(),
		fixtureDiscovery(), fixtureNetwork(), fixtureStorageClasses(), fixtureAdmission(), fixtureResource(), fixtureExtensions()} {
		for k, v := range m {
			all[k] = v
		}
	}
	var evs []objects.Object
	for _, e := range fixtureEvents() {
		evs = append(evs, e)
	}
	all["event"] = evs
	return all
}

// TestTableGolden prints every kind, normal and wide, against golden files.
func TestTableGolden(t *testing.T) {
	fixtures := allTableFixtures()
	seen := map[string]bool{}
	for name, objs := range fixtures {
		for _, o := range objs {
			k, err := objects.KindOf(o)
			if err != nil {
				t.Fatal(err)
			}
			seen[k.Kind] = true
		}
		for _, wide := range []bool{false, true} {
			var buf bytes.Buffer
			if err := PrintTable(&buf, objs, TableOptions{Wide: wide, Now: now}); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			file := "table_" + name
			if wide {
				file += "_wide"
			}
			golden(t, file, buf.Bytes())
		}
	}
	for _, k := range objects.All() {
		if !seen[k.Kind] {
			t.Errorf("no table fixture for kind %s", k.Kind)
		}
		if _, ok := printers[k.Kind]; !ok {
			t.Errorf("no table printer for kind %s", k.Kind)
		}
	}
}

func TestTableAllNamespacesAndKinds(t *testing.T) {
	f := allTableFixtures()
	objs := append(append(append([]objects.Object{}, f["pod"][:2]...), f["service"][:2]...), f["deployment"]...)
	objs = append(objs, f["node"][:1]...)
	var buf bytes.Buffer
	if err := PrintTable(&buf, objs, TableOptions{ShowNamespace: true, ShowKind: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	golden(t, "table_get_all", buf.Bytes())

	out := buf.String()
	if !strings.HasPrefix(out, "NAMESPACE   NAME ") {
		t.Errorf("table should start with a NAMESPACE column, got %q", strings.SplitN(out, "\n", 2)[0])
	}
	// The node table follows namespaced ones, so it keeps an empty
	// NAMESPACE column, as kubectl prints it.
	for _, want := range []string{"pod/web-7d4b9c-abcde", "service/web", "deployment.apps/web", "\nNAMESPACE   NAME  ", "\n            node/node-1 "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := strings.Count(out, "\n\n"); got != 3 {
		t.Errorf("want 3 blank lines between 4 kinds, got %d:\n%s", got, out)
	}
}

func TestTableNoHeaders(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintTable(&buf, fixtureNodes(), TableOptions{NoHeaders: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(fixtureNodes()) {
		t.Fatalf("want one line per node, got %d:\n%s", len(lines), buf.String())
	}
	if strings.Contains(buf.String(), "NAME") {
		t.Errorf("header printed despite NoHeaders:\n%s", buf.String())
	}
}

func TestTableRejectsUnknownType(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintTable(&buf, []objects.Object{&notStored{}}, TableOptions{Now: now}); err == nil {
		t.Fatal("want an error for a type that is not a stored kind")
	}
}

func TestNoResources(t *testing.T) {
	for _, c := range []struct {
		ns   string
		all  bool
		want string
	}{
		{"default", false, "No resources found in default namespace."},
		{"default", true, "No resources found"},
		{"", false, "No resources found"},
	} {
		if got := NoResources(c.ns, c.all); got != c.want {
			t.Errorf("NoResources(%q, %v) = %q, want %q", c.ns, c.all, got, c.want)
		}
	}
}

func TestTableClusterScopedFirstHasNoNamespaceColumn(t *testing.T) {
	f := allTableFixtures()
	var buf bytes.Buffer
	objs := append(append([]objects.Object{}, f["node"][:1]...), f["pod"][:1]...)
	if err := PrintTable(&buf, objs, TableOptions{ShowNamespace: true, ShowKind: true, Now: now}); err != nil {
		t.Fatal(err)
	}
	tables := strings.Split(buf.String(), "\n\n")
	if len(tables) != 2 || !strings.HasPrefix(tables[0], "NAME ") || !strings.HasPrefix(tables[1], "NAMESPACE ") {
		t.Errorf("want nodes without and pods with a NAMESPACE column:\n%s", buf.String())
	}
}

func TestTableEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintTable(&buf, nil, TableOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("want no output for no objects, got %q", buf.String())
	}
}

func TestTableCellsStayOnOneLine(t *testing.T) {
	e := fixtureEvents()[0].DeepCopy()
	e.Message = "line one\nline\ttwo"
	var buf bytes.Buffer
	if err := PrintTable(&buf, []objects.Object{e}, TableOptions{Now: now}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Count(buf.String(), "\n"); lines != 2 {
		t.Errorf("want a header and one row, got %d lines:\n%s", lines, buf.String())
	}
	mustContain(t, buf.String(), "line one line two\n")
}
