package projections_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/test/logtest"
)

// craftedExport writes events with chosen ids and causes, as no writer
// would, to see that check catches them.
func craftedExport(t *testing.T, evs []*events.Event) *projections.FileHistory {
	t.Helper()
	var buf bytes.Buffer
	h := &logfile.Header{FirstSeq: 1, LastSeq: uint64(len(evs)), Count: uint64(len(evs)), HasBase: true}
	w, err := logfile.NewWriter(&buf, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		e.Seq = uint64(i + 1)
		e.Time = t0.Add(time.Duration(i) * time.Second)
		m, err := events.EncodeMsg(e, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(e.Seq, e.Time, m.Subject, m.Header, m.Data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	fh, err := projections.ReadExport(&buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fh
}

func cmEvent(id, name, cause, data string) *events.Event {
	return &events.Event{ID: id, Type: events.TypeCreated, Resource: "configmaps", Namespace: "default", Name: name, Actor: "t", Cause: cause, Object: []byte(data)}
}

func TestCheckFindsBrokenLinksAndPayloads(t *testing.T) {
	const (
		idA = "AAAAAAAAAAAAAAAAAAAAAA"
		idB = "BBBBBBBBBBBBBBBBBBBBBB"
		idC = "CCCCCCCCCCCCCCCCCCCCCC"
		idX = "XXXXXXXXXXXXXXXXXXXXXX" // never written
	)
	fh := craftedExport(t, []*events.Event{
		cmEvent(idA, "a", "req:1", `{"metadata":{"name":"a","namespace":"default"}}`),
		cmEvent(idB, "b", idC, `{"metadata":{"name":"b","namespace":"default"}}`), // cause is later
		cmEvent(idC, "c", idA, `{"metadata":{"name":"c","namespace":"default"}}`),
		cmEvent("DDDDDDDDDDDDDDDDDDDDDD", "d", idX, `{"metadata":{"name":"d","namespace":"default"}}`),
		cmEvent("EEEEEEEEEEEEEEEEEEEEEE", "e", "bootstrap", `not json`),
		cmEvent(idA, "f", "", `{"metadata":{"name":"f","namespace":"default"}}`), // id reused
	})
	r, err := projections.Check(context.Background(), fh)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(r.Problems, "\n")
	for _, want := range []string{
		"event #2 names as its cause " + idC + ", which is the later event #3",
		"event #4 names as its cause " + idX + ", which is not in the log",
		"event #5 (configmaps default/e): payload does not decode",
		"event #6 reuses the id " + idA + " of #1",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("check did not report %q; problems:\n%s", want, all)
		}
	}
	if len(r.Problems) != 4 || r.Events != 6 || r.CausedByRequest != 1 || r.CausedOther != 1 || r.NoCause != 1 {
		t.Fatalf("report %+v", r)
	}

	clean := craftedExport(t, []*events.Event{
		cmEvent(idA, "a", "req:1", `{"metadata":{"name":"a","namespace":"default"}}`),
		cmEvent(idB, "b", idA, `{"metadata":{"name":"b","namespace":"default"}}`),
	})
	if r, err := projections.Check(context.Background(), clean); err != nil || !r.OK() || r.CausedByEvent != 1 {
		t.Fatalf("clean log: %v %+v", err, r)
	}
}

// A snapshot that disagrees with the log is a problem.
func TestCheckComparesSnapshotsWithTheReplay(t *testing.T) {
	l := logtest.StartLog(t, clocktesting.NewFakeClock(t0))
	scenario(t, l, 30)
	p := startProjection(t, l, 0)
	if _, err := p.WriteSnapshot(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := projections.Check(context.Background(), p.History())
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || len(r.Snapshots) != 1 || r.Snapshots[0].Status != "ok" {
		t.Fatalf("check: %+v", r)
	}
	// Overwrite the snapshot with the view of an earlier point.
	early, err := p.At(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := early.EncodeSnapshot(&buf, l.Sealer); err != nil {
		t.Fatal(err)
	}
	os, err := l.JS.ObjectStore(context.Background(), events.SnapshotBucket)
	if err != nil {
		t.Fatal(err)
	}
	snaps, _ := p.Snapshots(context.Background())
	if _, err := os.PutBytes(context.Background(), "snap-"+pad20(snaps[0]), buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	r, err = projections.Check(context.Background(), p.History())
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Snapshots[0].Status != "mismatch" {
		t.Fatalf("a wrong snapshot passed the check: %+v", r)
	}
}

func pad20(v uint64) string { return fmt.Sprintf("%020d", v) }
