package events

import "testing"

func TestSplitObjectKeyInvertsObjectKey(t *testing.T) {
	for _, c := range []struct{ ns, name string }{{"default", "web"}, {"", "node-1"}, {"kube-system", "a.b-c"}} {
		ns, name := SplitObjectKey(ObjectKey(c.ns, c.name))
		if ns != c.ns || name != c.name {
			t.Errorf("SplitObjectKey(ObjectKey(%q, %q)) = %q, %q", c.ns, c.name, ns, name)
		}
	}
}
