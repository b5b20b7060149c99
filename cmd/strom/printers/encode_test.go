package printers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/strom-project/strom/events/objects"
)

func encodeFixtures() []objects.Object {
	f := allTableFixtures()
	return []objects.Object{f["deployment"][0], f["service"][1], f["configmap"][0]}
}

func TestPrintJSONAndYAMLShapes(t *testing.T) {
	objs := encodeFixtures()
	for _, c := range []struct {
		name   string
		objs   []objects.Object
		asList bool
	}{
		{"single", objs[:1], false},
		{"single_as_list", objs[:1], true},
		{"list", objs, false},
		{"empty_list", nil, true},
	} {
		var j, y bytes.Buffer
		if err := PrintJSON(&j, c.objs, c.asList); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if err := PrintYAML(&y, c.objs, c.asList); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		golden(t, "json_"+c.name, j.Bytes())
		golden(t, "yaml_"+c.name, y.Bytes())

		// Both encodings carry the same document.
		var fromJSON, fromYAML map[string]any
		if err := json.Unmarshal(j.Bytes(), &fromJSON); err != nil {
			t.Fatalf("%s: JSON output does not parse: %v", c.name, err)
		}
		if err := yaml.Unmarshal(y.Bytes(), &fromYAML); err != nil {
			t.Fatalf("%s: YAML output does not parse: %v", c.name, err)
		}
		jb, _ := json.Marshal(fromJSON)
		yb, _ := json.Marshal(fromYAML)
		if !bytes.Equal(jb, yb) {
			t.Errorf("%s: JSON and YAML differ:\n%s\n%s", c.name, jb, yb)
		}

		wantList := c.asList || len(c.objs) != 1
		if wantList {
			if fromJSON["kind"] != "List" || fromJSON["apiVersion"] != "v1" {
				t.Errorf("%s: want a v1 List, got kind %v apiVersion %v", c.name, fromJSON["kind"], fromJSON["apiVersion"])
			}
			items, _ := fromJSON["items"].([]any)
			if len(items) != len(c.objs) {
				t.Errorf("%s: want %d items, got %d", c.name, len(c.objs), len(items))
			}
			md, _ := fromJSON["metadata"].(map[string]any)
			if rv, ok := md["resourceVersion"]; !ok || rv != "" {
				t.Errorf(`%s: want metadata {"resourceVersion": ""}, got %v`, c.name, md)
			}
			for i, it := range items {
				k, _ := objects.KindOf(c.objs[i])
				m := it.(map[string]any)
				if m["kind"] != k.Kind || m["apiVersion"] != k.APIVersion() {
					t.Errorf("%s: item %d has kind %v apiVersion %v, want %s %s", c.name, i, m["kind"], m["apiVersion"], k.Kind, k.APIVersion())
				}
			}
		} else if fromJSON["kind"] != "Deployment" || fromJSON["apiVersion"] != "apps/v1" {
			t.Errorf("%s: want the Deployment itself, got kind %v apiVersion %v", c.name, fromJSON["kind"], fromJSON["apiVersion"])
		}
	}
}

func TestPrintJSONIndentAndKeyOrder(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintJSON(&buf, encodeFixtures()[:1], false); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "{\n    \"apiVersion\": \"apps/v1\",\n    \"kind\": \"Deployment\",\n    \"metadata\": {\n") {
		t.Errorf("want 4-space indent and sorted keys as kubectl prints, got:\n%s", out)
	}
}

func TestPrintDoesNotMutateObjects(t *testing.T) {
	cm := &corev1.ConfigMap{ObjectMeta: meta("default", "x", 0)}
	for _, print := range []func() error{
		func() error { return PrintJSON(&bytes.Buffer{}, []objects.Object{cm}, false) },
		func() error { return PrintYAML(&bytes.Buffer{}, []objects.Object{cm}, true) },
	} {
		if err := print(); err != nil {
			t.Fatal(err)
		}
	}
	if cm.Kind != "" || cm.APIVersion != "" {
		t.Errorf("printing set TypeMeta on the caller's object: %+v", cm.TypeMeta)
	}
}

func TestPrintName(t *testing.T) {
	var buf bytes.Buffer
	objs := append(encodeFixtures(), fixturePods()[0], fixtureNodes()[0], allTableFixtures()["rolebinding"][0])
	if err := PrintName(&buf, objs); err != nil {
		t.Fatal(err)
	}
	want := "deployment.apps/web\nservice/web-np\nconfigmap/settings\npod/web-7d4b9c-abcde\nnode/node-1\nrolebinding.rbac.authorization.k8s.io/read-pods\n"
	if buf.String() != want {
		t.Errorf("PrintName:\n got %q\nwant %q", buf.String(), want)
	}
	if err := PrintName(&buf, []objects.Object{&notStored{}}); err == nil {
		t.Error("want an error for a type that is not a stored kind")
	}
}
