package projections_test

import (
	"slices"
	"testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
)

// Pages follow (namespace, name) order even where "ns/name" strings sort
// differently ("a-b/x" < "a/y" as strings), and a page after a change
// sees it: the sorted order kept between pages is dropped on change.
func TestListPagesInNamespaceNameOrder(t *testing.T) {
	st := projections.NewStore()
	seq := uint64(0)
	put := func(ns, name string) {
		seq++
		st.Apply(&events.Event{Seq: seq, Type: events.TypeCreated, Resource: "configmaps", Namespace: ns, Name: name, Object: []byte("{}")})
	}
	for _, ns := range []string{"a", "a-b", "b"} {
		for _, name := range []string{"x", "y", "z"} {
			put(ns, name)
		}
	}
	want := []string{"a/x", "a/y", "a/z", "a-b/x", "a-b/y", "a-b/z", "b/x", "b/y", "b/z"}
	for _, limit := range []int{1, 2, 4, 100} {
		var got []string
		for cont, pages := "", 0; ; pages++ {
			if pages > 20 {
				t.Fatalf("limit %d: paging does not end: %v", limit, got)
			}
			page, next := st.List(projections.Query{Resource: "configmaps", Limit: limit, Continue: cont})
			for _, e := range page {
				got = append(got, e.Key())
			}
			if next == "" {
				break
			}
			cont = next
		}
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: pages gave %v, want %v", limit, got, want)
		}
	}
	// A change between pages: an entry after the position shows up, one
	// before it does not come back.
	page, next := st.List(projections.Query{Resource: "configmaps", Limit: 4})
	if len(page) != 4 || next != "a-b/x" {
		t.Fatalf("first page %d entries, continue %q", len(page), next)
	}
	put("a", "w")   // before the position
	put("a-b", "w") // after it
	var rest []string
	for cont := next; cont != ""; {
		var page []*projections.Entry
		page, cont = st.List(projections.Query{Resource: "configmaps", Limit: 4, Continue: cont})
		for _, e := range page {
			rest = append(rest, e.Key())
		}
	}
	if want := []string{"a-b/y", "a-b/z", "b/x", "b/y", "b/z"}; !slices.Equal(rest, want) {
		t.Fatalf("after the change: %v, want %v", rest, want)
	}
	// One namespace: the same order.
	for _, q := range []projections.Query{{Resource: "configmaps", Namespace: "a-b", Limit: 2}, {Resource: "configmaps", Namespace: "a"}} {
		var got []string
		for cont := ""; ; {
			q.Continue = cont
			page, next := st.List(q)
			for _, e := range page {
				got = append(got, e.Key())
			}
			if cont = next; cont == "" {
				break
			}
		}
		if want := []string{q.Namespace + "/w", q.Namespace + "/x", q.Namespace + "/y", q.Namespace + "/z"}; !slices.Equal(got, want) {
			t.Fatalf("namespace %s: %v, want %v", q.Namespace, got, want)
		}
	}
}
