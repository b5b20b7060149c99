package events_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/strom-project/strom/events"
)

func exportFixture(t *testing.T, n int) ([]byte, []*events.RawMsg) {
	t.Helper()
	var buf bytes.Buffer
	h := &events.ExportHeader{FirstSeq: 7, LastSeq: uint64(6 + n), Count: uint64(n), HasBase: true, BaseSeq: 6}
	w, err := events.NewExportWriter(&buf, h, []byte("base-bytes"))
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*events.RawMsg
	for i := 0; i < n; i++ {
		m := &events.RawMsg{Seq: uint64(7 + i), Stamp: time.Unix(1700000000, int64(i)).UTC(), Subject: "strom.ev.pods.default.p",
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
	r, err := events.NewExportReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if h := r.Header(); h.Format != events.ExportFormat || h.Version != events.ExportVersion || h.FirstSeq != 7 || h.Count != 5 || h.Sealed != events.SealAlgorithm {
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
		r, err := events.NewExportReader(bytes.NewReader(b))
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
	w, _ := events.NewExportWriter(&buf, &events.ExportHeader{}, nil)
	if err := w.Write(5, time.Now(), "s", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(5, time.Now(), "s", nil, nil); err == nil {
		t.Fatalf("a repeated sequence was accepted")
	}
}

func TestRedactObject(t *testing.T) {
	in := []byte(`{"kind":"Secret","metadata":{"name":"db"},"data":{"pw":"czNjcmV0"},"stringData":{"x":"plain"}}`)
	out := string(events.RedactObject("secrets", in))
	if strings.Contains(out, "czNjcmV0") || strings.Contains(out, "plain") || !strings.Contains(out, `"pw":"\u003credacted\u003e"`) && !strings.Contains(out, `"pw":"<redacted>"`) {
		t.Fatalf("redacted: %s", out)
	}
	cm := []byte(`{"data":{"k":"v"}}`)
	if got := events.RedactObject("configmaps", cm); !bytes.Equal(got, cm) {
		t.Fatalf("configmap changed: %s", got)
	}
	if got := events.RedactObject("secrets", []byte{1, 2, 3}); got != nil {
		t.Fatalf("sealed bytes not dropped: %v", got)
	}
}
