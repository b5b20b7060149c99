package logfile_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// The version-1 export below holds the codec fixture of package events
// (events/testdata, see events/fixture_test.go): it is read against that
// log and folds to that golden state.
const (
	fixtureLog    = "../testdata/fixture-v1.jsonl"
	fixtureGolden = "../testdata/fixture-v1.golden"
	// fixtureKey seals the fixture's secrets; it protects nothing.
	fixtureKey = "strom-fixture-key-32-bytes-long!"
)

type fixtureMsg struct {
	Seq     uint64              `json:"seq"`
	Time    time.Time           `json:"time"`
	Subject string              `json:"subject"`
	Header  map[string][]string `json:"header"`
	Data    []byte              `json:"data"`
}

// describeStore renders a view as sorted text: every object decoded with
// the current types, so a type change that breaks old payloads fails too.
// It is events/fixture_test.go's, which wrote the golden file: a copy that
// drifted from it would fail against that file.
func describeStore(t *testing.T, st *projections.Store) string {
	var lines []string
	for _, k := range objects.All() {
		items, _ := st.List(projections.Query{Resource: k.Resource})
		for _, e := range items {
			obj, err := e.Object()
			if err != nil {
				t.Fatalf("%s %s: %v", k.Resource, e.Key(), err)
			}
			extra := ""
			switch o := obj.(type) {
			case *appsv1.Deployment:
				extra = fmt.Sprintf(" replicas=%d image=%s", *o.Spec.Replicas, o.Spec.Template.Spec.Containers[0].Image)
			case *corev1.Secret:
				extra = " password=" + string(o.Data["password"])
			case *corev1.Pod:
				extra = " phase=" + string(o.Status.Phase) + " node=" + o.Spec.NodeName
			}
			lines = append(lines, fmt.Sprintf("%s %s rv=%d gen=%d labels=%v%s", k.Resource, e.Key(), e.Seq, obj.GetGeneration(), obj.GetLabels(), extra))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n"
}

// exportV1 is an export of the fixture written by the version-1 writer
// (uncompressed), checked in: files exported before compression must
// still replay.
const exportV1 = "testdata/export-v1.stromlog"

func TestExportVersion1StillReads(t *testing.T) {
	sealer, err := events.NewSealer([]byte(fixtureKey))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	var want []fixtureMsg
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m fixtureMsg
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		want = append(want, m)
	}
	f, err := os.Open(exportV1)
	if err != nil {
		t.Fatalf("version-1 export missing: %v", err)
	}
	defer f.Close()
	r, err := logfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Version != 1 || h.Compression != "" || h.Count != uint64(len(want)) {
		t.Fatalf("header: version %d, compression %q, %d records; want 1, none, %d", h.Version, h.Compression, h.Count, len(want))
	}
	st := projections.NewStore()
	for i := 0; ; i++ {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			if i != len(want) {
				t.Fatalf("read %d records, want %d", i, len(want))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if m.Seq != w.Seq || !m.Stamp.Equal(w.Time) || m.Subject != w.Subject || string(m.Data) != string(w.Data) {
			t.Fatalf("record %d: #%d %s %s, want #%d %s %s", i, m.Seq, m.Stamp, m.Subject, w.Seq, w.Time, w.Subject)
		}
		for k, v := range w.Header {
			if !strings.HasPrefix(k, "Nats-Expected-") && len(v) > 0 && m.Header.Get(k) != v[0] {
				t.Fatalf("record #%d header %s: %q, want %q", m.Seq, k, m.Header.Get(k), v[0])
			}
		}
		ev, err := m.Decode(sealer)
		if err != nil {
			t.Fatalf("record #%d: %v", m.Seq, err)
		}
		st.Apply(ev)
	}
	golden, err := os.ReadFile(fixtureGolden)
	if err != nil {
		t.Fatal(err)
	}
	if got := describeStore(t, st); got != string(golden) {
		t.Fatalf("the version-1 export folds to a different state:\n--- got\n%s--- want\n%s", got, golden)
	}
}
