package projections

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/strom-project/strom/events"
)

// Snapshot format: a magic line, a version, then the view's sequence and
// entries, length-prefixed. Secret payloads are sealed as in the log.
const (
	snapMagic   = "STROMSNAP\n"
	snapVersion = 1
)

// snapshotOf copies what a snapshot needs under the read lock; entries are
// immutable, so encoding happens outside it.
func (s *Store) snapshotOf() (seq uint64, t time.Time, entries []*Entry) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, tb := range s.tables {
		for _, m := range tb.byNS {
			for _, e := range m {
				entries = append(entries, e)
			}
		}
	}
	return s.lastSeq, s.lastTime, entries
}

// EncodeSnapshot writes the view to w.
func (s *Store) EncodeSnapshot(w io.Writer, sealer *events.Sealer) (uint64, error) {
	seq, t, entries := s.snapshotOf()
	bw := bufio.NewWriterSize(w, 1<<20)
	enc := &snapWriter{w: bw}
	enc.raw([]byte(snapMagic))
	enc.uvarint(snapVersion)
	enc.uvarint(seq)
	enc.varint(t.UnixNano())
	enc.uvarint(uint64(len(entries)))
	for _, e := range entries {
		enc.str(e.Resource)
		enc.str(e.Namespace)
		enc.str(e.Name)
		enc.str(e.UID)
		enc.uvarint(e.Seq)
		enc.uvarint(uint64(len(e.Labels)))
		for k, v := range e.Labels {
			enc.str(k)
			enc.str(v)
		}
		enc.str(e.NodeName)
		enc.uvarint(uint64(len(e.Owners)))
		for _, o := range e.Owners {
			enc.str(o)
		}
		data := e.Data
		if e.Resource == "secrets" {
			if sealer == nil {
				return 0, errors.New("snapshot: secrets present but no sealer")
			}
			sealed, err := sealer.Seal(data)
			if err != nil {
				return 0, fmt.Errorf("snapshot: sealing %s: %w", e.Key(), err)
			}
			data = sealed
		}
		enc.bytes(data)
	}
	if enc.err != nil {
		return 0, fmt.Errorf("writing snapshot: %w", enc.err)
	}
	return seq, bw.Flush()
}

// DecodeSnapshot reads a snapshot into a new Store, opening sealed
// Secret payloads with sealer.
func DecodeSnapshot(r io.Reader, sealer *events.Sealer) (*Store, error) {
	return decodeSnapshot(r, func(e *Entry) error {
		if sealer == nil {
			return errors.New("snapshot holds secrets but no key is configured")
		}
		plain, err := sealer.Open(e.Data)
		if err != nil {
			return fmt.Errorf("snapshot: secret %s: %w", e.Key(), err)
		}
		e.Data = plain
		return nil
	})
}

// decodeSnapshot reads a snapshot; secret is called on each Secret entry
// to turn its sealed payload into what the view holds.
func decodeSnapshot(r io.Reader, secret func(*Entry) error) (*Store, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	magic := make([]byte, len(snapMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapMagic {
		return nil, errors.New("snapshot: not a Strom snapshot")
	}
	d := &snapReader{r: br}
	if v := d.uvarint(); v != snapVersion {
		if d.err != nil {
			return nil, fmt.Errorf("snapshot: %w", d.err)
		}
		return nil, fmt.Errorf("snapshot: version %d, this build reads %d", v, snapVersion)
	}
	s := NewStore()
	s.lastSeq = d.uvarint()
	if ns := d.varint(); ns != 0 {
		s.lastTime = time.Unix(0, ns).UTC()
	}
	n := d.uvarint()
	for i := uint64(0); i < n && d.err == nil; i++ {
		e := &Entry{Resource: d.str(), Namespace: d.str(), Name: d.str(), UID: d.str(), Seq: d.uvarint()}
		if nl := d.uvarint(); nl > 0 && d.err == nil {
			e.Labels = make(map[string]string, nl)
			for j := uint64(0); j < nl && d.err == nil; j++ {
				k := d.str()
				e.Labels[k] = d.str()
			}
		}
		e.NodeName = d.str()
		if no := d.uvarint(); no > 0 && d.err == nil {
			e.Owners = make([]string, no)
			for j := range e.Owners {
				e.Owners[j] = d.str()
			}
		}
		e.Data = d.bytes()
		if d.err != nil {
			break
		}
		if e.Resource == "secrets" {
			if err := secret(e); err != nil {
				return nil, err
			}
		}
		t := s.tables[e.Resource]
		if t == nil {
			t = newTable()
			s.tables[e.Resource] = t
		}
		t.put(e)
	}
	if d.err != nil {
		return nil, fmt.Errorf("snapshot: truncated or corrupt: %w", d.err)
	}
	return s, nil
}

type snapWriter struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
	err error
}

func (s *snapWriter) raw(b []byte) {
	if s.err == nil {
		_, s.err = s.w.Write(b)
	}
}
func (s *snapWriter) uvarint(v uint64) { s.raw(s.buf[:binary.PutUvarint(s.buf[:], v)]) }
func (s *snapWriter) varint(v int64)   { s.raw(s.buf[:binary.PutVarint(s.buf[:], v)]) }
func (s *snapWriter) bytes(b []byte)   { s.uvarint(uint64(len(b))); s.raw(b) }
func (s *snapWriter) str(v string) {
	s.uvarint(uint64(len(v)))
	if s.err == nil {
		_, s.err = s.w.WriteString(v)
	}
}

type snapReader struct {
	r   *bufio.Reader
	err error
}

func (s *snapReader) uvarint() uint64 {
	if s.err != nil {
		return 0
	}
	v, err := binary.ReadUvarint(s.r)
	s.err = err
	return v
}

func (s *snapReader) varint() int64 {
	if s.err != nil {
		return 0
	}
	v, err := binary.ReadVarint(s.r)
	s.err = err
	return v
}

func (s *snapReader) bytes() []byte {
	n := s.uvarint()
	if s.err != nil {
		return nil
	}
	if n > 64<<20 {
		s.err = fmt.Errorf("field of %d bytes", n)
		return nil
	}
	b := make([]byte, n)
	_, s.err = io.ReadFull(s.r, b)
	return b
}

func (s *snapReader) str() string { return string(s.bytes()) }

// equalStores reports whether two views hold the same entries; used by
// tests and `strom stream check` to compare a snapshot with a replay.
func equalStores(a, b *Store) error {
	sa, _, ea := a.snapshotOf()
	sb, _, eb := b.snapshotOf()
	if sa != sb {
		return fmt.Errorf("views at #%d and #%d", sa, sb)
	}
	if len(ea) != len(eb) {
		return fmt.Errorf("%d entries vs %d", len(ea), len(eb))
	}
	for _, e := range ea {
		o, ok := b.Get(e.Resource, e.Namespace, e.Name)
		if !ok {
			return fmt.Errorf("%s %s missing", e.Resource, e.Key())
		}
		if o.Seq != e.Seq || o.UID != e.UID || !bytes.Equal(o.Data, e.Data) || o.NodeName != e.NodeName {
			return fmt.Errorf("%s %s differs (#%d vs #%d)", e.Resource, e.Key(), e.Seq, o.Seq)
		}
	}
	return nil
}

// Compare reports the first difference between two views, or nil.
func Compare(a, b *Store) error { return equalStores(a, b) }
