package logfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats.go"

	"github.com/strom-project/strom/events"
)

// Export file format "strom-log", version 2. An export is self-describing:
// it can be replayed with nothing but the file (and, for Secrets' values,
// the cluster's key, which is never written into it).
//
//	magic      "STROMLOG\n"
//	header     uvarint length + JSON Header
//	           (then, with "compression": "s2", the rest is one s2 stream)
//	base       uvarint length + a projection snapshot (length 0: none);
//	           the state just before FirstSeq, secrets sealed as stored
//	records    per event, in sequence order:
//	             uvarint seq (never 0)
//	             varint  stream time, Unix nanoseconds
//	             string  subject
//	             uvarint header count, then per header: string key, string value
//	             bytes   payload, exactly as in the stream (Secrets sealed)
//	trailer    uvarint 0, uvarint record count
//
// A string or bytes field is a uvarint length then the bytes. Records are
// the stream's messages verbatim (minus JetStream's publish preconditions),
// so replaying a file decodes them with events.DecodeMsg like the live log. The
// trailer makes a truncated file an error rather than a shorter history.
//
// Version 1 is the same without compression (and without the header's
// compression field); readers read both. Compression made the benchmark's
// export ~20× smaller and faster to write: the file's writes were costing
// as much CPU as reading the log (docs/bench/timetravel.md).
const (
	Format      = "strom-log"
	Version     = 2
	exportMagic = "STROMLOG\n"
	// CompressionS2 compresses everything after the header as one
	// s2 stream (github.com/klauspost/compress/s2, framed format).
	CompressionS2 = "s2"
)

// Header describes an export file.
type Header struct {
	Format  string `json:"format"`  // the Format constant
	Version int    `json:"version"` // the Version constant when written
	Codec   int    `json:"codec"`   // the newest event codec version the writer knew
	// Stream is the exported stream's configuration, for the record.
	Stream Stream `json:"stream"`
	// FirstSeq..LastSeq is the range of records; Count how many there are
	// (the log has no gaps, so Count = LastSeq-FirstSeq+1 unless empty).
	FirstSeq  uint64    `json:"firstSeq"`
	LastSeq   uint64    `json:"lastSeq"`
	FirstTime time.Time `json:"firstTime,omitempty"`
	LastTime  time.Time `json:"lastTime,omitempty"`
	Count     uint64    `json:"count"`
	// BaseSeq is the sequence of the base snapshot when the file holds
	// one: usually FirstSeq-1, or, for a log that lost its head, a later
	// point (the records before it serve log and trace only). Views can be
	// rebuilt from BaseSeq on. HasBase with BaseSeq 0 and no snapshot
	// means the records start at #1 (the empty cluster is the base).
	// Without a base, no view can be rebuilt: replay says so (Gone).
	BaseSeq uint64 `json:"baseSeq"`
	HasBase bool   `json:"hasBase"`
	// RequestedFrom is the --from the user asked for; records may start
	// earlier, at the base snapshot, so that every point from it is exact.
	RequestedFrom uint64    `json:"requestedFrom,omitempty"`
	ExportedAt    time.Time `json:"exportedAt"`
	// Sealed names the encryption of Secret payloads (the key is not in
	// the file).
	Sealed string `json:"sealed"`
	// Compression (version 2 on) names how everything after the header
	// (base, records, trailer) is compressed: CompressionS2, or
	// empty for not at all (version 1 files never are).
	Compression string `json:"compression,omitempty"`
}

// Stream is the part of the stream configuration an export keeps.
type Stream struct {
	Name     string        `json:"name"`
	Subjects []string      `json:"subjects"`
	MaxAge   time.Duration `json:"maxAge"`
	MaxBytes int64         `json:"maxBytes"`
	Replicas int           `json:"replicas"`
}

// RawMsg is one stream message as stored: what an export record holds.
type RawMsg struct {
	Seq     uint64
	Stamp   time.Time
	Subject string
	Header  nats.Header
	Data    []byte
}

// Decode reads the message as an event (see events.DecodeMsg).
func (m *RawMsg) Decode(s *events.Sealer) (*events.Event, error) {
	return events.DecodeMsg(m.Subject, m.Header, m.Data, m.Seq, m.Stamp, s)
}

// Writer writes an export file.
//
// Each record is appended to one buffer and the buffer goes to the
// underlying writer in pieces of about exportChunk bytes. Encoding a
// record is then a few appends rather than a bufio call per field, which
// made BenchmarkTimeTravel's export about 17% faster. The pieces are
// written by a goroutine of their own while the next one fills: writing
// a file costs the kernel about as much CPU as reading the log does
// (docs/bench/timetravel.md), so the two run side by side.
type Writer struct {
	w     io.Writer // the compressor in front of the file
	zw    *s2.Writer
	buf   []byte
	keys  []string
	pairs []rawPair // WriteRaw's headers
	count uint64
	last  uint64

	free   chan []byte   // emptied buffers, for the encoder to fill
	full   chan []byte   // filled buffers, for the writer goroutine
	done   chan struct{} // closed when the writer goroutine has ended
	closed bool
	failed atomic.Bool // err is set
	mu     sync.Mutex
	err    error // the first write error; every call after it returns it
}

// exportChunk is how many bytes the writer gathers before writing them;
// exportBuffers how many such pieces may be in hand at once.
const (
	exportChunk   = 1 << 20
	exportBuffers = 4
)

// NewWriter writes the magic, the header and the base snapshot
// (nil: none) to w, the rest compressed.
func NewWriter(w io.Writer, h *Header, base []byte) (*Writer, error) {
	h.Format, h.Version, h.Codec, h.Compression = Format, Version, events.CodecVersion, CompressionS2
	if h.Sealed == "" {
		h.Sealed = events.SealAlgorithm
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encoding export header: %w", err)
	}
	if _, err := w.Write(appendBytes([]byte(exportMagic), hdr)); err != nil {
		return nil, fmt.Errorf("writing export header: %w", err)
	}
	// Blocks are compressed on every core, in order.
	zw := s2.NewWriter(w, s2.WriterBlockSize(exportChunk))
	_, err = zw.Write(binary.AppendUvarint(nil, uint64(len(base))))
	if err == nil && len(base) > 0 {
		_, err = zw.Write(base) // the base can be large: not copied again
	}
	if err != nil {
		_ = zw.Close()
		return nil, fmt.Errorf("writing export base snapshot: %w", err)
	}
	ew := &Writer{w: zw, zw: zw, free: make(chan []byte, exportBuffers), full: make(chan []byte, exportBuffers), done: make(chan struct{})}
	for i := 0; i < exportBuffers; i++ {
		// Room for a chunk and the record that crosses it.
		ew.free <- make([]byte, 0, exportChunk+64<<10)
	}
	ew.buf = <-ew.free
	go ew.writeLoop()
	return ew, nil
}

// writeLoop writes filled buffers in order until full is closed, then
// flushes the compressor; after a failed write it only recycles them.
func (e *Writer) writeLoop() {
	defer close(e.done)
	for b := range e.full {
		if !e.failed.Load() {
			if _, err := e.w.Write(b); err != nil {
				e.fail(err)
			}
		}
		e.free <- b[:0]
	}
	if err := e.zw.Close(); err != nil && !e.failed.Load() {
		e.fail(err)
	}
}

func (e *Writer) fail(err error) {
	e.mu.Lock()
	e.err = fmt.Errorf("writing export: %w", err)
	e.mu.Unlock()
	e.failed.Store(true)
}

func (e *Writer) error() error {
	if !e.failed.Load() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

func appendBytes(b, v []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

func appendString(b []byte, v string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(v))), v...)
}

// flush hands the buffer to the writer goroutine and takes an empty one.
func (e *Writer) flush() error {
	if len(e.buf) > 0 {
		e.full <- e.buf
		e.buf = <-e.free
	}
	return e.error()
}

// Write appends one record. Sequences must increase. A failed write of
// the file is returned by a later Write (a few records on) and by Close.
func (e *Writer) Write(seq uint64, stamp time.Time, subject string, h nats.Header, data []byte) error {
	b, err := e.begin(seq, stamp, subject)
	if err != nil {
		return err
	}
	e.keys = e.keys[:0]
	for k, v := range h {
		if len(v) == 0 || strings.HasPrefix(k, "Nats-Expected-") {
			continue
		}
		e.keys = append(e.keys, k)
	}
	slices.Sort(e.keys)
	b = binary.AppendUvarint(b, uint64(len(e.keys)))
	for _, k := range e.keys {
		b = appendString(b, k)
		b = appendString(b, h[k][0])
	}
	return e.finish(b, data)
}

// begin takes seq as the next record's sequence (or says why not) and
// encodes the record's start after e.buf.
func (e *Writer) begin(seq uint64, stamp time.Time, subject string) ([]byte, error) {
	if e.closed {
		return nil, errors.New("export: write after close")
	}
	if seq == 0 || seq <= e.last {
		return nil, fmt.Errorf("export: record #%d after #%d: sequences must increase", seq, e.last)
	}
	if err := e.error(); err != nil {
		return nil, err
	}
	e.last = seq
	b := binary.AppendUvarint(e.buf, seq)
	b = binary.AppendVarint(b, stamp.UnixNano())
	return appendString(b, subject), nil
}

// finish appends the payload to a record encoded in b (e.buf grown).
func (e *Writer) finish(b, data []byte) error {
	e.buf = appendBytes(b, data)
	e.count++
	if len(e.buf) >= exportChunk {
		return e.flush()
	}
	return nil
}

// WriteRaw appends one record whose headers are a NATS header block as
// the stream stores it ("NATS/1.0\r\nKey: Value\r\n...\r\n"): the same
// record Write makes of nats.DecodeHeadersMsg's result (first value of
// each key, sorted), without building the map, which was a fifth of a
// snapshot export's CPU.
func (e *Writer) WriteRaw(seq uint64, stamp time.Time, subject string, hdr, data []byte) error {
	pairs, ok := e.parseHeader(hdr)
	if !ok {
		// A status line, or a block DecodeHeadersMsg must judge.
		h, err := nats.DecodeHeadersMsg(hdr)
		if err != nil {
			return fmt.Errorf("export: record #%d: headers: %w", seq, err)
		}
		return e.Write(seq, stamp, subject, h, data)
	}
	b, err := e.begin(seq, stamp, subject)
	if err != nil {
		return err
	}
	b = binary.AppendUvarint(b, uint64(len(pairs)))
	for _, p := range pairs {
		b = appendBytes(b, p.k)
		b = appendBytes(b, p.v)
	}
	return e.finish(b, data)
}

type rawPair struct{ k, v []byte }

// parseHeader reads a header block as nats.DecodeHeadersMsg does, into
// e.pairs sorted by key, keeping each key's first value and leaving out
// publish preconditions. It declines (false) what it does not handle the
// same way: a status line, a malformed block.
func (e *Writer) parseHeader(hdr []byte) ([]rawPair, bool) {
	line, rest, ok := headerLine(hdr)
	if !ok || string(line) != "NATS/1.0" {
		return nil, false
	}
	e.pairs = e.pairs[:0]
	for {
		if line, rest, ok = headerLine(rest); !ok {
			return nil, false
		}
		if len(line) == 0 {
			break
		}
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			return nil, false
		}
		k, v := line[:i], line[i+1:]
		for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
			v = v[1:]
		}
		if len(k) == 0 || bytes.HasPrefix(k, []byte("Nats-Expected-")) {
			continue
		}
		// Insertion sort, stable: a repeated key lands after its first
		// value, which the loop below keeps. (A dozen keys: faster than
		// slices.SortFunc with a comparison function.)
		e.pairs = append(e.pairs, rawPair{k, v})
		for j := len(e.pairs) - 1; j > 0 && string(e.pairs[j].k) < string(e.pairs[j-1].k); j-- {
			e.pairs[j], e.pairs[j-1] = e.pairs[j-1], e.pairs[j]
		}
	}
	out := e.pairs[:0]
	for _, p := range e.pairs {
		if len(out) == 0 || string(p.k) != string(out[len(out)-1].k) {
			out = append(out, p)
		}
	}
	return out, true
}

// headerLine splits off a line ending in "\n", without its "\r\n".
func headerLine(b []byte) (line, rest []byte, ok bool) {
	i := bytes.IndexByte(b, '\n')
	if i < 0 {
		return nil, nil, false
	}
	line = b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, b[i+1:], true
}

// Close writes the trailer, waits until everything is written and stops
// the writer goroutine; it does not close the underlying writer. It
// returns how many records were written.
func (e *Writer) Close() (uint64, error) {
	if e.closed {
		return e.count, errors.New("export: closed twice")
	}
	e.buf = binary.AppendUvarint(e.buf, 0)
	e.buf = binary.AppendUvarint(e.buf, e.count)
	e.full <- e.buf
	e.stop()
	return e.count, e.error()
}

// Abort stops the writer goroutine without writing the trailer, leaving
// an export that readers refuse as truncated. It is a no-op after Close.
func (e *Writer) Abort() {
	if !e.closed {
		e.stop()
	}
}

func (e *Writer) stop() {
	e.closed = true
	e.buf = nil
	close(e.full)
	<-e.done
}

// Reader reads an export file record by record, each record a
// RawMsg of its own (Image.Records reads without copying).
type Reader struct {
	img  *Image
	recs *Records
}

// NewReader reads the whole file into memory, checks the magic and
// reads the header and base snapshot.
func NewReader(r io.Reader) (*Reader, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading log export: %w", err)
	}
	img, err := OpenImage(data)
	if err != nil {
		return nil, err
	}
	return &Reader{img: img, recs: img.Records()}, nil
}

// Header is the file's header.
func (e *Reader) Header() Header { return e.img.header }

// Base is the base snapshot (nil: none).
func (e *Reader) Base() []byte { return e.img.base }

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Next returns the next record, or io.EOF after the last one. A file that
// ends without its trailer, or whose trailer count disagrees, is an error.
func (e *Reader) Next() (*RawMsg, error) {
	rec, err := e.recs.Next()
	if err != nil {
		return nil, err
	}
	m := &RawMsg{Seq: rec.Seq, Stamp: time.Unix(0, rec.Stamp).UTC(), Subject: rec.Subject,
		Header: make(nats.Header, len(rec.Pairs)/2), Data: bytes.Clone(rec.Data)}
	for i := 0; i+1 < len(rec.Pairs); i += 2 {
		m.Header[rec.Pairs[i]] = rec.Pairs[i+1 : i+2 : i+2]
	}
	return m, nil
}
