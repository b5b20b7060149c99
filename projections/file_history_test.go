package projections_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
	"github.com/strom-project/strom/projections"
)

// fileHistoryExport writes an export of n events over a few hundred
// objects: ConfigMaps with labels, Pods with nodes and owners, sealed
// Secrets, deletions, an event of a future type marked ignorable, and
// payloads of up to 12 KiB of random bytes, so that records and
// payloads cross the file's compressed blocks.
func fileHistoryExport(t *testing.T, n int, sealer *events.Sealer) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	h := &logfile.Header{FirstSeq: 1, LastSeq: uint64(n), Count: uint64(n), HasBase: true}
	w, err := logfile.NewWriter(&buf, h, nil)
	if err != nil {
		t.Fatal(err)
	}
	const letters = "abcdefghijklmnopqrstuvwxyz0123456789"
	for i := 1; i <= n; i++ {
		obj := rng.IntN(300)
		e := &events.Event{ID: fmt.Sprintf("ev-%07d", i), Type: events.TypeUpdated, Namespace: "default", Actor: fmt.Sprintf("actor-%d", i%3),
			UID: fmt.Sprintf("uid-%d", obj), Time: t0.Add(time.Duration(i) * time.Millisecond)}
		if i%5 == 0 {
			e.Cause = fmt.Sprintf("ev-%07d", i-1)
		}
		switch obj % 3 {
		case 0:
			e.Resource, e.Name = "configmaps", fmt.Sprintf("cm-%d", obj)
			e.Labels = map[string]string{"app": "web", "round": fmt.Sprint(i % 4)}
		case 1:
			e.Resource, e.Name, e.NodeName = "pods", fmt.Sprintf("pod-%d", obj), fmt.Sprintf("node-%d", i%4)
			e.Owners = []string{"rs-1", fmt.Sprintf("rs-%d", i%2)}
		case 2:
			e.Resource, e.Name = "secrets", fmt.Sprintf("secret-%d", obj)
		}
		if i%97 == 0 {
			e.Type = events.TypeDeleted
		}
		if i == n/2 {
			e.Type, e.Ignorable = "FromTheFuture", true
		}
		payload := make([]byte, rng.IntN(12<<10))
		for j := range payload {
			payload[j] = letters[rng.IntN(len(letters))]
		}
		e.Object = fmt.Appendf(nil, `{"metadata":{"name":%q},"data":%q}`, e.Name, payload)
		m, err := events.EncodeMsg(e, sealer)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(uint64(i), t0.Add(time.Duration(i)*time.Second), m.Subject, m.Header, m.Data); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodedEvents reads an export the plain way: every record decoded into
// an event of its own, as the live log is read.
func decodedEvents(t *testing.T, data []byte, sealer *events.Sealer) []*events.Event {
	t.Helper()
	r, err := logfile.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out []*events.Event
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		ev, err := m.Decode(sealer)
		if errors.Is(err, events.ErrIgnored) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Object == nil && events.IsSecret(ev.Resource) {
			ev.Object = events.SealedPlaceholder(ev)
		}
		out = append(out, ev)
	}
}

// A FileHistory keeps its events compactly and rebuilds them on reading:
// what it gives back, and the views it folds, are exactly those of the
// records decoded one by one, with and without the key.
func TestFileHistoryMatchesDecodedRecords(t *testing.T) {
	ctx := context.Background()
	key := bytes.Repeat([]byte{7}, 32)
	sealer, err := events.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	const n = 6000
	data := fileHistoryExport(t, n, sealer)
	for _, s := range []*events.Sealer{sealer, nil} {
		want := decodedEvents(t, data, s)
		if len(want) != n-1 {
			t.Fatalf("decoded %d events, want %d (one is ignorable)", len(want), n-1)
		}
		fh, err := projections.ReadExport(bytes.NewReader(data), s)
		if err != nil {
			t.Fatal(err)
		}
		var got []*events.Event
		if err := fh.Events(ctx, projections.EventQuery{}, func(ev *events.Event) error {
			got = append(got, ev)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("key %v: %d events, want %d", s != nil, len(got), len(want))
		}
		for i := range want {
			if !reflect.DeepEqual(got[i], want[i]) {
				t.Fatalf("key %v: event %d:\n got %+v\nwant %+v", s != nil, i, got[i], want[i])
			}
		}
		// Headers only: the same envelopes without payloads, and a
		// subject filter from the middle.
		var heads int
		if err := fh.Events(ctx, projections.EventQuery{From: 3000, Subjects: []string{"strom.ev.pods.>"}, HeadersOnly: true}, func(ev *events.Event) error {
			heads++
			if ev.Object != nil || ev.Resource != "pods" || ev.Seq < 3000 {
				t.Fatalf("headers-only walk gave %+v", ev)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if heads == 0 {
			t.Fatalf("no pod events from #3000")
		}
		// Views at several points, the last one folded while loading.
		for _, seq := range []uint64{n, 1, 2999, n / 2, n - 1} {
			st, err := fh.At(ctx, seq)
			if err != nil {
				t.Fatal(err)
			}
			ref := projections.NewStore()
			for _, ev := range want {
				if ev.Seq <= seq {
					ref.Apply(ev)
				}
			}
			if err := projections.Compare(st, ref); err != nil {
				t.Fatalf("key %v: view at #%d: %v", s != nil, seq, err)
			}
		}
	}
}

// Damage inside the compressed body is found by the blocks' checksums
// (or the decompressor) and named, not read as other events.
func TestFileHistoryDamagedBlock(t *testing.T) {
	sealer, err := events.NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	data := fileHistoryExport(t, 2000, sealer)
	for _, at := range []int{len(data) / 3, len(data) / 2, len(data) * 3 / 4} {
		bad := bytes.Clone(data)
		bad[at] ^= 0x20
		_, err := projections.ReadExport(bytes.NewReader(bad), nil)
		if err == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Fatalf("byte %d of %d flipped: %v, want an error saying the file is corrupt", at, len(data), err)
		}
	}
}
