package agent

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func svcAt(name, rv string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, ResourceVersion: rv}}
}

// A list replaces the state, except where the feed already showed
// something newer than the list.
func TestMergeListed(t *testing.T) {
	cur := map[string]*corev1.Service{
		"default/a": svcAt("a", "5"),  // listed at 5: replaced by the list
		"default/b": svcAt("b", "12"), // feed newer than the list's copy (7)
		"default/c": svcAt("c", "3"),  // not listed, older than the list: deleted
		"default/d": svcAt("d", "11"), // not listed, created after the list (seq 10)
	}
	seq := map[string]uint64{"services/default/a": 5, "services/default/b": 12, "services/default/c": 3, "services/default/d": 11,
		"services/default/e": 9} // e: deleted by the feed at 9, listed at 8
	listed := map[string]*corev1.Service{
		"default/a": svcAt("a", "6"),
		"default/b": svcAt("b", "7"),
		"default/e": svcAt("e", "8"),
		"default/f": svcAt("f", "4"),
	}
	got := mergeListed(cur, listed, seq, "services", 10)
	want := map[string]string{"default/a": "6", "default/b": "12", "default/d": "11", "default/f": "4"}
	if len(got) != len(want) {
		t.Fatalf("got %d objects %v, want %v", len(got), got, want)
	}
	for k, rv := range want {
		if got[k] == nil || got[k].ResourceVersion != rv {
			t.Errorf("%s: got %v, want resourceVersion %s", k, got[k], rv)
		}
	}
	if seq["services/default/a"] != 6 || seq["services/default/f"] != 4 {
		t.Errorf("sequences not advanced: %v", seq)
	}
}
