package objects_test

import (
	"strings"
	"testing"

	"github.com/strom-project/strom/events/objects"
)

// A manifest stream decodes in full or not at all: JSON values one after
// another (as kubectl takes them), YAML flow mappings as YAML, and
// anything left over refused with the byte where it starts.
func TestDecodeManifestsWholeStream(t *testing.T) {
	const cm = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"}}`
	obj := func(name string) string { return strings.ReplaceAll(cm, "%s", name) }
	for _, tc := range []struct {
		in    string
		names []string
		err   string
	}{
		{in: obj("a"), names: []string{"a"}},
		{in: obj("a") + "\n" + obj("b"), names: []string{"a", "b"}},
		{in: "[" + obj("a") + "," + obj("b") + "]\n" + obj("c"), names: []string{"a", "b", "c"}},
		{in: "{apiVersion: v1, kind: ConfigMap, metadata: {name: flow}}", names: []string{"flow"}},
		{in: obj("a") + " garbage{{", err: "malformed JSON at byte 64 (after 1 document(s)): invalid character 'g'"},
		{in: obj("a") + "garbage", err: "malformed JSON at byte 63"},
		{in: "[" + obj("a") + "] {{", err: "malformed JSON at byte 66"},
		{in: obj("a") + ` "text"`, err: "want an object or an array of objects"},
		{in: "[" + obj("a") + ",", err: "malformed JSON"},
	} {
		ms, err := objects.DecodeManifests(strings.NewReader(tc.in), "f.json")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "f.json: ") {
				t.Errorf("%q: want an error with %q naming the file, got %v", tc.in, tc.err, err)
			}
			if len(ms) != 0 {
				t.Errorf("%q: %d objects decoded besides the error", tc.in, len(ms))
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		var names []string
		for _, m := range ms {
			names = append(names, m.Object.GetName())
		}
		if strings.Join(names, ",") != strings.Join(tc.names, ",") {
			t.Errorf("%q: decoded %v, want %v", tc.in, names, tc.names)
		}
	}
}
