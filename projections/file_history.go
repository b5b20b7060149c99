package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/strom-project/strom/events"
)

// FileHistory is the History of an export file, held in memory: offline
// replay with no server. Secret payloads are opened with the sealer when
// one is given; without it they stay sealed and read as placeholders
// (events.SealedPlaceholder).
//
// Views are folded from the file's base snapshot; the last few are cached
// because one CLI command (describe) asks for the same point many times.
type FileHistory struct {
	header events.ExportHeader
	sealed bool   // no key: secret payloads are placeholders
	base   *Store // state at header.BaseSeq (nil without a base)
	evs    []*events.Event
	subj   []string // evs[i]'s subject

	mu    sync.Mutex
	cache []*Store // most recent first, at most cacheViews
}

const cacheViews = 4

// LoadFile reads an export file.
func LoadFile(path string, sealer *events.Sealer) (*FileHistory, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening log export: %w", err)
	}
	defer f.Close()
	h, err := ReadExport(f, sealer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// ReadExport reads an export from r.
//
// Loading allocates every event at once and keeps it: collections in
// between would rescan a heap that only grows, so the collector runs at
// a quarter of its usual frequency while loading (GOGC 400 at least).
func ReadExport(r io.Reader, sealer *events.Sealer) (*FileHistory, error) {
	if old := debug.SetGCPercent(400); old > 400 || old < 0 {
		debug.SetGCPercent(old)
	} else {
		defer debug.SetGCPercent(old)
	}
	er, err := events.NewExportReader(r)
	if err != nil {
		return nil, err
	}
	h := &FileHistory{header: er.Header(), sealed: sealer == nil}
	if h.header.HasBase {
		if b := er.Base(); b != nil {
			if h.base, err = decodeSnapshotMaybeSealed(b, sealer); err != nil {
				return nil, fmt.Errorf("base snapshot: %w", err)
			}
			if h.base.LastSeq() != h.header.BaseSeq {
				return nil, fmt.Errorf("base snapshot is at #%d, header says #%d", h.base.LastSeq(), h.header.BaseSeq)
			}
		} else {
			h.base = NewStore()
		}
	}
	if h.header.Count > 0 && h.header.Count < 64<<20 {
		h.evs = make([]*events.Event, 0, h.header.Count)
		h.subj = make([]string, 0, h.header.Count)
	}
	// Three stages on their own goroutines: read records, decode them,
	// and (here) keep them and fold the newest view as they come, so
	// that loading uses every core and Latest is ready when it ends.
	done := make(chan struct{})
	defer close(done)
	raw := readRecords(er, h.header.FirstSeq, done)
	dec := decodeRecords(raw, sealer, done)
	var latest *Store
	if h.base != nil {
		latest = h.base.clone()
	}
	for b := range dec {
		if b.err != nil {
			return nil, b.err
		}
		for i, ev := range b.evs {
			h.evs = append(h.evs, ev)
			h.subj = append(h.subj, b.subj[i])
			if latest != nil {
				latest.Apply(ev)
			}
		}
		if b.last {
			if h.header.Count > 0 && b.next != h.header.LastSeq+1 {
				return nil, fmt.Errorf("records end at #%d, header says #%d", b.next-1, h.header.LastSeq)
			}
			if latest != nil {
				h.cache = []*Store{latest}
			}
			return h, nil
		}
	}
	return nil, fmt.Errorf("export: reading stopped early")
}

// recordBatch is a run of records on their way through ReadExport.
type recordBatch struct {
	msgs []*events.RawMsg
	evs  []*events.Event
	subj []string
	next uint64 // the sequence expected after this batch
	last bool   // the trailer was read
	err  error
}

const recordBatchSize = 1024

// readRecords reads records in batches, checking sequences are contiguous.
func readRecords(er *events.ExportReader, first uint64, done <-chan struct{}) <-chan *recordBatch {
	out := make(chan *recordBatch, 8)
	go func() {
		defer close(out)
		next := first
		send := func(b *recordBatch) bool {
			select {
			case out <- b:
				return true
			case <-done:
				return false
			}
		}
		b := &recordBatch{}
		for {
			m, err := er.Next()
			if errors.Is(err, io.EOF) {
				b.next, b.last = next, true
				send(b)
				return
			}
			if err == nil && m.Seq != next {
				err = fmt.Errorf("record #%d where #%d was expected", m.Seq, next)
			}
			if err != nil {
				send(&recordBatch{err: err})
				return
			}
			next++
			b.msgs = append(b.msgs, m)
			if len(b.msgs) == recordBatchSize {
				b.next = next
				if !send(b) {
					return
				}
				b = &recordBatch{}
			}
		}
	}()
	return out
}

// decodeRecords decodes batches; Secrets it cannot open become
// placeholders.
func decodeRecords(in <-chan *recordBatch, sealer *events.Sealer, done <-chan struct{}) <-chan *recordBatch {
	out := make(chan *recordBatch, 8)
	go func() {
		defer close(out)
		for b := range in {
			if b.err == nil {
				b.evs = make([]*events.Event, 0, len(b.msgs))
				b.subj = make([]string, 0, len(b.msgs))
				for _, m := range b.msgs {
					ev, err := m.Decode(sealer)
					if errors.Is(err, events.ErrIgnored) {
						continue
					}
					if err != nil {
						b.err = err
						break
					}
					if ev.Object == nil && events.IsSecret(ev.Resource) {
						ev.Object = events.SealedPlaceholder(ev)
					}
					b.evs = append(b.evs, ev)
					b.subj = append(b.subj, m.Subject)
				}
				b.msgs = nil
			}
			select {
			case out <- b:
			case <-done:
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return out
}

// Header is the export's header.
func (h *FileHistory) Header() events.ExportHeader { return h.header }

// Sealed reports whether secret payloads are placeholders (no key given).
func (h *FileHistory) Sealed() bool { return h.sealed }

// Bounds is the file's range.
func (h *FileHistory) Bounds(context.Context) (Bounds, error) {
	b := Bounds{FirstSeq: h.header.FirstSeq, LastSeq: h.header.LastSeq, FirstTime: h.header.FirstTime, LastTime: h.header.LastTime, Count: uint64(len(h.evs))}
	if h.base != nil {
		b.Replayable, b.ReplayableOK = h.header.BaseSeq, true
	}
	return b, nil
}

// Events walks the file's events in order.
func (h *FileHistory) Events(ctx context.Context, q EventQuery, fn func(*events.Event) error) error {
	i := sort.Search(len(h.evs), func(i int) bool { return h.evs[i].Seq >= q.From })
	for ; i < len(h.evs); i++ {
		ev := h.evs[i]
		if q.To != 0 && ev.Seq > q.To {
			return nil
		}
		if len(q.Subjects) > 0 && !matchAny(q.Subjects, h.subj[i]) {
			continue
		}
		if i&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := fn(ev); errors.Is(err, ErrStop) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}

// At folds the base and the events up to seq.
func (h *FileHistory) At(_ context.Context, seq uint64) (*Store, error) {
	if h.base == nil {
		return nil, events.Errorf(events.ReasonGone, "the export has no base snapshot: objects created before #%d are unknown, so no point can be rebuilt exactly", h.header.FirstSeq)
	}
	if seq < h.header.BaseSeq {
		return nil, events.Errorf(events.ReasonGone, "#%d is before the oldest replayable point of this export (#%d)", seq, h.header.BaseSeq)
	}
	if seq > h.header.LastSeq && seq > h.header.BaseSeq {
		return nil, events.Errorf(events.ReasonBadRequest, "#%d is in the future: the export ends at #%d", seq, h.header.LastSeq)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, st := range h.cache {
		if st.LastSeq() == seq {
			copy(h.cache[1:i+1], h.cache[:i])
			h.cache[0] = st
			return st, nil
		}
	}
	st := h.base.clone()
	for _, ev := range h.evs {
		if ev.Seq > seq {
			break
		}
		st.Apply(ev)
	}
	h.cache = append([]*Store{st}, h.cache...)
	if len(h.cache) > cacheViews {
		h.cache = h.cache[:cacheViews]
	}
	return st, nil
}

// SeqAt is the last event at or before t.
func (h *FileHistory) SeqAt(_ context.Context, t time.Time) (uint64, error) {
	i := sort.Search(len(h.evs), func(i int) bool { return h.evs[i].Stamp.After(t) })
	if i > 0 {
		return h.evs[i-1].Seq, nil
	}
	if h.base != nil && (h.header.BaseSeq == 0 || !h.base.LastTime().After(t)) {
		return h.header.BaseSeq, nil
	}
	first := h.header.FirstTime
	return 0, events.Errorf(events.ReasonGone, "%s is before the oldest point of this export (#%d at %s)", t.Format(time.RFC3339), h.header.FirstSeq, first.Format(time.RFC3339))
}

// Latest is the view after the file's last event.
func (h *FileHistory) Latest(ctx context.Context) (*Store, error) {
	last := h.header.LastSeq
	if len(h.evs) == 0 {
		last = h.header.BaseSeq
	}
	return h.At(ctx, last)
}

// Snapshots is the base snapshot, if the file has one.
func (h *FileHistory) Snapshots(context.Context) ([]uint64, error) {
	if h.base != nil && h.header.BaseSeq > 0 {
		return []uint64{h.header.BaseSeq}, nil
	}
	return nil, nil
}

// Snapshot returns the base snapshot.
func (h *FileHistory) Snapshot(_ context.Context, seq uint64) (*Store, error) {
	if h.base == nil || seq != h.header.BaseSeq || seq == 0 {
		return nil, events.Errorf(events.ReasonNotFound, "the export holds no snapshot #%d", seq)
	}
	return h.base.clone(), nil
}

// decodeSnapshotMaybeSealed decodes a snapshot; without a sealer, Secret
// entries become placeholders instead of failing the whole snapshot.
func decodeSnapshotMaybeSealed(data []byte, sealer *events.Sealer) (*Store, error) {
	if sealer != nil {
		return DecodeSnapshot(bytes.NewReader(data), sealer)
	}
	st, err := DecodeSnapshot(bytes.NewReader(data), nil)
	if err == nil {
		return st, nil
	}
	if !strings.Contains(err.Error(), "no key") {
		return nil, err
	}
	// Re-read the snapshot with a throwaway key just to walk it: secrets
	// cannot be opened, so read entries raw and substitute placeholders.
	return decodeSnapshotRaw(data)
}

// decodeSnapshotRaw reads a snapshot without opening secrets, which become
// placeholders. It follows snapshot.go's layout.
func decodeSnapshotRaw(data []byte) (*Store, error) {
	return decodeSnapshot(bytes.NewReader(data), func(e *Entry) error {
		e.Data = events.SealedPlaceholder(&events.Event{Name: e.Name, Namespace: e.Namespace, UID: e.UID, Labels: e.Labels})
		return nil
	})
}

// matchAny reports whether subject matches one of the NATS filters.
func matchAny(filters []string, subject string) bool {
	for _, f := range filters {
		if subjectMatch(f, subject) {
			return true
		}
	}
	return false
}

// subjectMatch matches a subject against a filter with NATS wildcards.
func subjectMatch(filter, subject string) bool {
	for {
		ft, frest, fmore := strings.Cut(filter, ".")
		st, srest, smore := strings.Cut(subject, ".")
		switch {
		case ft == ">":
			return true
		case ft != "*" && ft != st:
			return false
		}
		if !fmore || !smore {
			return fmore == smore
		}
		filter, subject = frest, srest
	}
}
