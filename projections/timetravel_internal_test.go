package projections

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

func TestPruneSnapshotsKeepsTheOldestReplayable(t *testing.T) {
	cases := []struct {
		snaps []uint64
		first uint64
		keep  int
		want  string // deleted
	}{
		// Nothing dropped from the log (a replay can start from #0):
		// thin evenly, never the newest.
		{[]uint64{10, 20, 30, 40, 50}, 1, 3, "[10 30]"},
		{[]uint64{10, 20, 30}, 1, 16, "[]"},
		// The head is dropped up to 35: 10, 20, 30 serve nothing any
		// more (events 31-35 are gone); 40, the oldest replayable point,
		// is kept on top of keep.
		{[]uint64{10, 20, 30, 40, 50}, 36, 2, "[10 20 30]"},
		{[]uint64{10, 20, 30, 40, 50, 60, 61}, 36, 2, "[10 20 30 60]"},
		// A snapshot exactly at first-1 still serves.
		{[]uint64{10, 20, 30}, 21, 1, "[10]"},
		// No snapshot at or before first-1: the oldest is the oldest
		// replayable point and is never thinned.
		{[]uint64{40, 50, 52, 60}, 36, 2, "[52]"},
		{[]uint64{40, 41, 60}, 36, 1, "[41]"},
	}
	for _, c := range cases {
		got := fmt.Sprint(pruneSnapshots(c.snaps, c.first, c.keep))
		if got == "[]" && c.want == "[]" {
			continue
		}
		if got != c.want {
			t.Errorf("prune(%v, first %d, keep %d) deletes %s, want %s", c.snaps, c.first, c.keep, got, c.want)
		}
	}
}

func TestSubjectMatch(t *testing.T) {
	for _, c := range []struct {
		f, s string
		ok   bool
	}{
		{"strom.ev.>", "strom.ev.pods.default.web", true},
		{"strom.ev.pods.>", "strom.ev.pods.default.web", true},
		{"strom.ev.pods.>", "strom.ev.podsx.default.web", false},
		{"strom.ev.*.shop.*", "strom.ev.pods.shop.web", true},
		{"strom.ev.*.shop.*", "strom.ev.pods.shopx.web", false},
		{"strom.ev.pods.shop.*", "strom.ev.pods.shop", false},
		{"strom.ev.pods.shop.web", "strom.ev.pods.shop.web", true},
		{"strom.ev.pods.shop.web", "strom.ev.pods.shop.web.x", false},
	} {
		if got := subjectMatch(c.f, c.s); got != c.ok {
			t.Errorf("subjectMatch(%q, %q) = %v", c.f, c.s, got)
		}
	}
}

func ev(seq uint64, id, typ, res, ns, name, actor, cause string, data string) *events.Event {
	return &events.Event{Seq: seq, ID: id, Type: events.Type(typ), Resource: res, Namespace: ns, Name: name, Actor: actor, Cause: cause,
		Time: time.Date(2026, 1, 1, 0, 0, int(seq), 0, time.UTC), Object: []byte(data)}
}

func TestDiffFieldsAndNoise(t *testing.T) {
	a, b := NewStore(), NewStore()
	a.Apply(ev(1, "e1", "Created", "configmaps", "ns", "kept", "u", "", `{"metadata":{"name":"kept","generation":1,"labels":{}},"data":{"a":"1"}}`))
	a.Apply(ev(2, "e2", "Created", "configmaps", "ns", "gone", "u", "", `{"metadata":{"name":"gone"}}`))
	a.Apply(ev(3, "e3", "Created", "configmaps", "ns", "same", "u", "", `{"metadata":{"name":"same"}}`))
	a.Apply(ev(4, "e4", "Created", "configmaps", "ns", "noise", "u", "", `{"metadata":{"name":"noise","generation":1}}`))
	a.Apply(ev(5, "e5", "Created", "secrets", "ns", "s", "u", "", `{"metadata":{"name":"s"},"data":{"pw":"b2xk"}}`))
	for _, e := range []*events.Event{
		ev(6, "f1", "Updated", "configmaps", "ns", "kept", "u", "", `{"metadata":{"name":"kept","generation":2,"labels":{"app.kubernetes.io/name":"x"}},"data":{"b":"2","list":[1,2]}}`),
		ev(7, "f2", "Created", "configmaps", "ns", "new", "u", "", `{"metadata":{"name":"new"}}`),
		ev(8, "f3", "Created", "configmaps", "ns", "same", "u", "", `{"metadata":{"name":"same"}}`),
		ev(9, "f4", "Updated", "configmaps", "ns", "noise", "u", "", `{"metadata":{"name":"noise","generation":2}}`),
		ev(10, "f5", "Updated", "secrets", "ns", "s", "u", "", `{"metadata":{"name":"s"},"data":{"pw":"bmV3","extra":"eA=="}}`),
	} {
		b.Apply(e)
	}
	// b lacks "gone"; "same" has a new resourceVersion but no change.
	b.Apply(ev(1, "", "", "", "", "", "", "", "")) // ignored: below lastSeq
	var lines []string
	for _, d := range Diff(a, b, DiffOptions{}) {
		lines = append(lines, fmt.Sprintf("%s %s %s", d.Change, d.Resource, d.Name))
		for _, f := range d.Fields {
			lines = append(lines, fmt.Sprintf("  %s %s %s %s", f.Op, f.Path, f.Old, f.New))
		}
	}
	got := strings.Join(lines, "\n")
	want := strings.Join([]string{
		"Deleted configmaps gone",
		"Changed configmaps kept",
		`  - data.a "1" `,
		`  + data.b  "2"`,
		`  + data.list  [1,2]`,
		`  + metadata.labels['app.kubernetes.io/name']  "x"`,
		"Created configmaps new",
		"Changed secrets s",
		`  + data.extra  "<redacted>"`,
		`  ~ data.pw "<redacted>" "<redacted>"`,
	}, "\n")
	if got != want {
		t.Fatalf("diff:\n%s\nwant:\n%s", got, want)
	}
	// --show-metadata: the generation bump of "noise" appears.
	meta := Diff(a, b, DiffOptions{ShowMetadata: true, Name: "noise"})
	if len(meta) != 1 || len(meta[0].Fields) != 1 || meta[0].Fields[0].Path != "metadata.generation" {
		t.Fatalf("show-metadata diff: %+v", meta)
	}
	if d := Diff(a, b, DiffOptions{Resource: "secrets"}); len(d) != 1 || d[0].Resource != "secrets" {
		t.Fatalf("resource filter: %+v", d)
	}
}

func TestTraceDownAndUp(t *testing.T) {
	x := NewCauseIndex()
	for _, e := range []*events.Event{
		ev(1, "A", "Created", "deployments", "ns", "web", "admin", "req:1", ""),
		ev(2, "B", "Created", "replicasets", "ns", "web-1", "deploy-ctl", "A", ""),
		ev(3, "C", "Created", "pods", "ns", "p1", "rs-ctl", "B", ""),
		ev(4, "D", "Created", "pods", "ns", "p2", "rs-ctl", "B", ""),
		ev(5, "E", "Updated", "pods", "ns", "p1", "scheduler", "C", ""),
		ev(6, "F", "StatusUpdated", "pods", "ns", "p1", "node/a", "E", ""),
		ev(7, "G", "StatusUpdated", "nodes", "", "a", "node-ctl", "lease-expired", ""),
		ev(8, "H", "Deleted", "pods", "ns", "p1", "node-ctl", "G", ""),
		ev(9, "I", "Updated", "pods", "ns", "p2", "x", "ZZZZZZZZZZZZZZZZZZZZZZ", ""),
	} {
		x.Add(e)
	}
	tr, err := x.Trace("deployments", "ns", "web", TraceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	var walk func(ns []*api.TraceNode, d int)
	walk = func(ns []*api.TraceNode, d int) {
		for _, n := range ns {
			fmt.Fprintf(&b, "%s%d %s +%g\n", strings.Repeat(" ", d), n.Seq, n.Actor, n.Delta)
			walk(n.Children, d+1)
		}
	}
	walk(tr.Events, 0)
	want := "1 admin +0\n 2 deploy-ctl +1\n  3 rs-ctl +1\n   5 scheduler +2\n    6 node/a +1\n  4 rs-ctl +2\n"
	if b.String() != want || tr.Root != "req:1" {
		t.Fatalf("down tree:\n%s\nwant:\n%s(root %q)", b.String(), want, tr.Root)
	}
	// Why was p1 deleted? The node failure, not the rollout.
	why, err := x.Trace("pods", "ns", "p1", TraceOptions{Why: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(why.Why) != 2 || why.Why[0].Seq != 7 || why.Why[1].Seq != 8 || why.Root != "lease-expired" || why.Why[1].Delta != 1 {
		t.Fatalf("why p1 deleted: %+v root %q", why.Why, why.Root)
	}
	// Why was p1 created (its first event, by sequence)? The request.
	cr, _ := x.Trace("pods", "ns", "p1", TraceOptions{Why: true, Seq: 3})
	if len(cr.Why) != 3 || cr.Why[0].Seq != 1 || cr.Root != "req:1" {
		t.Fatalf("why p1 created: %+v", cr.Why)
	}
	// A cause that names an event the log no longer has.
	m, _ := x.Trace("pods", "ns", "p2", TraceOptions{Why: true})
	if m.Missing != "ZZZZZZZZZZZZZZZZZZZZZZ" {
		t.Fatalf("missing cause not reported: %+v", m)
	}
	if _, err := x.Trace("pods", "ns", "nope", TraceOptions{}); !events.IsNotFound(err) {
		t.Fatalf("unknown object: %v", err)
	}
	// Bounded: a tree larger than MaxNodes is cut and says so.
	small, _ := x.Trace("deployments", "ns", "web", TraceOptions{MaxNodes: 2})
	if !small.Truncated {
		t.Fatalf("trace over MaxNodes not truncated")
	}
}
