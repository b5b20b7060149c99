package logfile_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/strom-project/strom/events/logfile"
)

// Records hand out each payload's offset; a PayloadReader reads any of
// them back, in any order, across the file's compressed blocks; subjects
// are numbered in the order they first appear.
func TestExportImagePayloadsReadBack(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	payload := func(seq uint64) []byte {
		n := int(seq*7919) % 5000
		switch {
		case seq%400 == 0:
			n = 2<<20 + int(seq) // larger than a block
		case seq%13 == 0:
			n = 0
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(seq) ^ byte(i>>3)
		}
		return b
	}
	var buf bytes.Buffer
	w, err := logfile.NewWriter(&buf, &logfile.Header{FirstSeq: 1, LastSeq: 3000, Count: 3000}, []byte("base"))
	if err != nil {
		t.Fatal(err)
	}
	subject := func(seq uint64) string { return fmt.Sprintf("s.%d", seq*seq%11) }
	for seq := uint64(1); seq <= 3000; seq++ {
		if err := w.Write(seq, time.Unix(0, int64(seq)), subject(seq), nats.Header{"K": {fmt.Sprint(seq)}}, payload(seq)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	img, err := logfile.OpenImage(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if string(img.Base()) != "base" {
		t.Fatalf("base %q", img.Base())
	}
	type at struct {
		off int64
		n   int
	}
	var offs []at
	ids := map[string]uint32{}
	recs := img.Records()
	for seq := uint64(1); ; seq++ {
		r, err := recs.Next()
		if errors.Is(err, io.EOF) {
			if seq != 3001 {
				t.Fatalf("%d records", seq-1)
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != seq || r.Subject != subject(seq) || r.Get("K") != fmt.Sprint(seq) || !bytes.Equal(r.Data, payload(seq)) {
			t.Fatalf("record %d: #%d %s K=%s, %d bytes", seq, r.Seq, r.Subject, r.Get("K"), len(r.Data))
		}
		id, seen := ids[r.Subject]
		if !seen {
			id = uint32(len(ids))
			ids[r.Subject] = id
		}
		if r.SubjectID != id {
			t.Fatalf("record %d: subject %s has id %d, want %d", seq, r.Subject, r.SubjectID, id)
		}
		offs = append(offs, at{r.DataOff, len(r.Data)})
	}
	pr := img.Payloads()
	for _, i := range rng.Perm(len(offs)) {
		got, err := pr.Read(offs[i].off, offs[i].n)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, payload(uint64(i+1))) {
			t.Fatalf("payload of #%d read back differs (%d bytes at %d)", i+1, offs[i].n, offs[i].off)
		}
	}
	if _, err := pr.Read(1<<40, 10); err == nil {
		t.Fatalf("a read past the end succeeded")
	}
}

// WriteRaw writes exactly the record Write makes of the decoded header
// block, whatever the block looks like.
func TestExportWriteRawMatchesWrite(t *testing.T) {
	blocks := []string{
		"NATS/1.0\r\nStrom-Type: Created\r\nNats-Msg-Id: abc\r\nStrom-Codec: 1\r\n\r\n",
		"NATS/1.0\r\nB: 2\r\nA: 1\r\nA: again\r\n\r\n",                       // a repeated key: the first value
		"NATS/1.0\r\nK:\t  spaced  \r\nE:\r\n: no key\r\n\r\n",               // leading blanks trimmed, empty value, empty key
		"NATS/1.0\r\nNats-Expected-Last-Subject-Sequence: 4\r\nX: y\r\n\r\n", // preconditions left out
		"NATS/1.0\nLF: only\n\n",       // bare line feeds
		"NATS/1.0 503\r\nX: y\r\n\r\n", // a status line (decoded the long way)
		"NATS/1.0\r\n\r\n",
	}
	write := func(raw bool) []byte {
		var buf bytes.Buffer
		w, err := logfile.NewWriter(&buf, &logfile.Header{ExportedAt: time.Unix(1, 0)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range blocks {
			seq := uint64(i + 1)
			if raw {
				err = w.WriteRaw(seq, time.Unix(0, 5), "s", []byte(b), []byte("data"))
			} else {
				h, herr := nats.DecodeHeadersMsg([]byte(b))
				if herr != nil {
					t.Fatalf("block %d: %v", i, herr)
				}
				err = w.Write(seq, time.Unix(0, 5), "s", h, []byte("data"))
			}
			if err != nil {
				t.Fatalf("block %d (raw %v): %v", i, raw, err)
			}
		}
		if _, err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if a, b := write(true), write(false); !bytes.Equal(a, b) {
		t.Fatalf("WriteRaw wrote %d bytes, Write %d, not the same", len(a), len(b))
	}
	var buf bytes.Buffer
	w, _ := logfile.NewWriter(&buf, &logfile.Header{}, nil)
	if err := w.WriteRaw(1, time.Unix(0, 0), "s", []byte("NATS/1.0\r\nno colon\r\n\r\n"), nil); err == nil {
		t.Fatalf("a malformed header block was written")
	}
	w.Abort()
}
