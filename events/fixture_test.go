package events_test

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/logtest"
)

// The fixture is a log written by codec version 1, checked in. Every later
// build must still read it and fold it to the same state: that is what
// "old logs replay after an upgrade" means. Regenerate only when adding a
// new fixture version, never to make a failing test pass.
var updateFixture = flag.Bool("update-fixture", false, "rewrite testdata/fixture-v1.* (only for a new codec version)")

const (
	fixtureLog    = "testdata/fixture-v1.jsonl"
	fixtureGolden = "testdata/fixture-v1.golden"
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

func TestFixtureLogReplays(t *testing.T) {
	sealer, err := events.NewSealer([]byte(fixtureKey))
	if err != nil {
		t.Fatal(err)
	}
	if *updateFixture {
		writeFixture(t, sealer)
	}
	f, err := os.Open(fixtureLog)
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	defer f.Close()
	st := projections.NewStore()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 8<<20)
	n := 0
	for sc.Scan() {
		var m fixtureMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("fixture line %d: %v", n+1, err)
		}
		ev, err := events.DecodeMsg(m.Subject, nats.Header(m.Header), m.Data, m.Seq, m.Time, sealer)
		if err != nil {
			t.Fatalf("fixture event #%d no longer decodes: %v", m.Seq, err)
		}
		st.Apply(ev)
		n++
	}
	if n < 18 {
		t.Fatalf("fixture has %d events; expected the full scenario", n)
	}
	got := describeStore(t, st)
	want, err := os.ReadFile(fixtureGolden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("fixture folds to a different state:\n--- got\n%s--- want\n%s", got, want)
	}
}

// describeStore renders a view as sorted text: every object decoded with
// the current types, so a type change that breaks old payloads fails too.
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

// writeFixture records a scenario through a real server and the write path.
func writeFixture(t *testing.T, sealer *events.Sealer) {
	clock := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	l := logtest.StartLog(t, clock)
	w, err := events.NewWriter(context.Background(), events.WriterConfig{JetStream: l.JS, Sealer: sealer, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	do := func(_ *events.Result, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		clock.Step(time.Minute)
	}
	o := events.WriteOptions{Actor: "fixture", Cause: "fixture"}
	for _, ns := range []string{"default", "shop"} {
		do(w.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}, o))
	}
	for i, img := range []string{"shop:1", "shop:2", "shop:3"} {
		d := deployment("web", img)
		d.Namespace = "shop"
		r := int32(i + 2)
		d.Spec.Replicas = &r
		do(w.Apply(ctx, d, o))
	}
	do(w.Apply(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Data: map[string][]byte{"password": []byte("s3cret")}}, o))
	do(w.Apply(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "app.config", Namespace: "shop"}, Data: map[string]string{"a": "1"}}, o))
	for i := 0; i < 4; i++ {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "shop", Labels: map[string]string{"app": "web"}},
			Spec: corev1.PodSpec{NodeName: "node-a", Containers: []corev1.Container{{Name: "c", Image: "shop:3"}}}}
		do(w.Create(ctx, p, o))
		p.Status.Phase = corev1.PodRunning
		do(w.UpdateStatus(ctx, p, o))
	}
	do(w.Delete(ctx, objects.ByKind("Pod"), "shop", "web-0", events.DeleteOptions{Now: true}, o))
	do(w.Apply(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-a", Labels: map[string]string{"kubernetes.io/hostname": "node-a"}}}, o))
	do(w.Apply(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}, Ports: []corev1.ServicePort{{Port: 80}}}}, o))

	stream, err := l.JS.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(fixtureLog)
	if err != nil {
		t.Fatal(err)
	}
	enc := json.NewEncoder(out)
	st := projections.NewStore()
	for seq := uint64(1); seq <= l.LastSeq(t); seq++ {
		m, err := stream.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		// Times in the fixture are the writer's fake clock, for stable files.
		ev, err := events.DecodeMsg(m.Subject, m.Header, m.Data, m.Sequence, m.Time, sealer)
		if err != nil {
			t.Fatal(err)
		}
		st.Apply(ev)
		if err := enc.Encode(fixtureMsg{Seq: m.Sequence, Time: ev.Time, Subject: m.Subject, Header: m.Header, Data: m.Data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixtureGolden, []byte(describeStore(t, st)), 0o644); err != nil {
		t.Fatal(err)
	}
}
