package logfile_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
)

func exportFixture(t *testing.T, n int) ([]byte, []*logfile.RawMsg) {
	t.Helper()
	var buf bytes.Buffer
	h := &logfile.Header{FirstSeq: 7, LastSeq: uint64(6 + n), Count: uint64(n), HasBase: true, BaseSeq: 6}
	w, err := logfile.NewWriter(&buf, h, []byte("base-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*logfile.RawMsg
	for i := 0; i < n; i++ {
		m := &logfile.RawMsg{Seq: uint64(7 + i), Stamp: time.Unix(1700000000, int64(i)).UTC(), Subject: "strom.ev.pods.default.p",
			Header: nats.Header{events.HeaderType: {"Created"}, events.HeaderCodec: {"1"}, nats.MsgIdHdr: {"id" + string(rune('a'+i))},
				"Nats-Expected-Last-Subject-Sequence": {"0"}},
			Data: []byte(`{"metadata":{"name":"p"}}`)}
		if err := w.Write(m.Seq, m.Stamp, m.Subject, m.Header, m.Data); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	if n, err := w.Close(); err != nil || n != uint64(len(msgs)) {
		t.Fatalf("close: %d %v", n, err)
	}
	return buf.Bytes(), msgs
}

func TestExportRoundTrip(t *testing.T) {
	data, msgs := exportFixture(t, 5)
	r, err := logfile.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Format != logfile.Format || h.Version != logfile.Version || h.FirstSeq != 7 || h.Count != 5 || h.Sealed != events.SealAlgorithm {
		t.Fatalf("header %+v", h)
	}
	if string(r.Base()) != "base-bytes" {
		t.Fatalf("base %q", r.Base())
	}
	for i := 0; ; i++ {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			if i != len(msgs) {
				t.Fatalf("read %d records, wrote %d", i, len(msgs))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		w := msgs[i]
		if m.Seq != w.Seq || !m.Stamp.Equal(w.Stamp) || m.Subject != w.Subject || !bytes.Equal(m.Data, w.Data) ||
			m.Header.Get(nats.MsgIdHdr) != w.Header.Get(nats.MsgIdHdr) || m.Header.Get(events.HeaderType) != "Created" {
			t.Fatalf("record %d: %+v, wrote %+v", i, m, w)
		}
		if m.Header.Get("Nats-Expected-Last-Subject-Sequence") != "" {
			t.Fatalf("publish precondition exported")
		}
		if _, err := m.Decode(nil); err != nil {
			t.Fatalf("record %d does not decode: %v", i, err)
		}
	}
}

func TestExportDamageIsAnError(t *testing.T) {
	data, _ := exportFixture(t, 5)
	readAll := func(b []byte) error {
		r, err := logfile.NewReader(bytes.NewReader(b))
		if err != nil {
			return err
		}
		for {
			if _, err := r.Next(); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
		}
	}
	if err := readAll(data); err != nil {
		t.Fatalf("intact file: %v", err)
	}
	for _, cut := range []int{len(data) - 1, len(data) - 2, len(data) / 2, 20} {
		if err := readAll(data[:cut]); err == nil {
			t.Fatalf("file cut at %d of %d bytes read without error", cut, len(data))
		}
	}
	if err := readAll(append([]byte("NOTALOG\n"), data...)); err == nil || !strings.Contains(err.Error(), "magic") {
		t.Fatalf("bad magic: %v", err)
	}
	var buf bytes.Buffer
	w, _ := logfile.NewWriter(&buf, &logfile.Header{}, nil)
	if err := w.Write(5, time.Now(), "s", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(5, time.Now(), "s", nil, nil); err == nil {
		t.Fatalf("a repeated sequence was accepted")
	}
}

// The writer's bytes are the format documented in logfile.go, built here by
// hand: a faster writer must not change a byte (of the header, and of the
// body once decompressed).
func TestExportWriterEncoding(t *testing.T) {
	var got bytes.Buffer
	h := &logfile.Header{FirstSeq: 41, LastSeq: 42, Count: 2, ExportedAt: time.Unix(1700000000, 0).UTC()}
	w, err := logfile.NewWriter(&got, h, []byte("BASE"))
	if err != nil {
		t.Fatal(err)
	}
	stamp := time.Unix(1700000000, 123456789)
	// Map order is random: keys are written sorted; empty values and
	// publish preconditions are left out; a repeated key keeps its first
	// value.
	hdr := nats.Header{"Zeta": {"z"}, "Alpha": {"a1", "a2"}, "Empty": {}, "Nats-Expected-Last-Sequence": {"9"}, nats.MsgIdHdr: {"id-1"}}
	if err := w.Write(41, stamp, "strom.ev.pods.ns.p", hdr, []byte("payload")); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(42, stamp.Add(-time.Hour), "s", nil, nil); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Close(); err != nil || n != 2 {
		t.Fatalf("close: %d %v", n, err)
	}

	js, err := json.Marshal(h) // as completed by NewWriter
	if err != nil {
		t.Fatal(err)
	}
	var want []byte
	str := func(s string) { want = binary.AppendUvarint(want, uint64(len(s))); want = append(want, s...) }
	want = append(want, "STROMLOG\n"...)
	str(string(js))
	head := len(want)
	if !bytes.HasPrefix(got.Bytes(), want) {
		t.Fatalf("magic and header differ:\n got %q\nwant %q", got.Bytes()[:min(head, got.Len())], want)
	}
	// The rest is one s2 stream of the base, the records and the trailer.
	body, err := io.ReadAll(s2.NewReader(bytes.NewReader(got.Bytes()[head:])))
	if err != nil {
		t.Fatalf("decompressing the body: %v", err)
	}
	got.Truncate(head)
	got.Write(body)
	str("BASE")
	want = binary.AppendUvarint(want, 41)
	want = binary.AppendVarint(want, stamp.UnixNano())
	str("strom.ev.pods.ns.p")
	want = binary.AppendUvarint(want, 3)
	for _, kv := range [][2]string{{"Alpha", "a1"}, {nats.MsgIdHdr, "id-1"}, {"Zeta", "z"}} {
		str(kv[0])
		str(kv[1])
	}
	str("payload")
	want = binary.AppendUvarint(want, 42)
	want = binary.AppendVarint(want, stamp.Add(-time.Hour).UnixNano())
	str("s")
	want = binary.AppendUvarint(want, 0)
	str("")
	want = binary.AppendUvarint(want, 0)
	want = binary.AppendUvarint(want, 2)
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("encoding differs:\n got %q\nwant %q", got.Bytes(), want)
	}
}

// Records larger than the writer's buffer and many records across its
// flushes read back intact.
func TestExportWriterLargeRecords(t *testing.T) {
	var buf bytes.Buffer
	w, err := logfile.NewWriter(&buf, &logfile.Header{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	payload := func(seq uint64) []byte {
		n := 100
		if seq%500 == 0 {
			n = 3 << 20 // a 3 MiB object now and then
		}
		return bytes.Repeat([]byte{byte(seq)}, n)
	}
	const n = 5000
	for seq := uint64(1); seq <= n; seq++ {
		if err := w.Write(seq, time.Unix(0, int64(seq)), "s", nats.Header{"K": {"v"}}, payload(seq)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := logfile.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for seq := uint64(1); ; seq++ {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			if seq != n+1 {
				t.Fatalf("read %d records, wrote %d", seq-1, n)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Seq != seq || !bytes.Equal(m.Data, payload(seq)) || m.Header.Get("K") != "v" {
			t.Fatalf("record %d: #%d, %d bytes", seq, m.Seq, len(m.Data))
		}
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		return 0, errors.New("disk full")
	}
	f.n -= len(p)
	return len(p), nil
}

func TestExportWriterReportsWriteErrors(t *testing.T) {
	w, err := logfile.NewWriter(&failAfter{n: 4 << 20}, &logfile.Header{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1000)
	random := rand.NewChaCha8([32]byte{1})
	var werr error
	seq := uint64(1)
	for ; seq < 100000 && werr == nil; seq++ {
		_, _ = random.Read(data) // incompressible, so that the file grows
		werr = w.Write(seq, time.Unix(0, 0), "s", nil, data)
	}
	if werr == nil || !strings.Contains(werr.Error(), "writing export: disk full") {
		t.Fatalf("write error: %v", werr)
	}
	if err := w.Write(seq, time.Unix(0, 0), "s", nil, data); err == nil {
		t.Fatalf("a write after a failed one succeeded")
	}
	if _, err := w.Close(); err == nil {
		t.Fatalf("close after a failed write succeeded")
	}
}

// A compression this build does not know is refused by name, not read
// as garbage; so is compression in a version-1 file.
func TestExportUnknownCompression(t *testing.T) {
	for _, c := range []struct {
		version     int
		compression string
	}{{2, "zstd"}, {1, "s2"}} {
		hdr, _ := json.Marshal(map[string]any{"format": "strom-log", "version": c.version, "compression": c.compression})
		b := append([]byte("STROMLOG\n"), binary.AppendUvarint(nil, uint64(len(hdr)))...)
		b = append(b, hdr...)
		_, err := logfile.NewReader(bytes.NewReader(b))
		if err == nil || !strings.Contains(err.Error(), `compression "`+c.compression+`"`) {
			t.Fatalf("version %d compression %q: %v", c.version, c.compression, err)
		}
	}
}
