package projections

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/logfile"
)

// FileHistory is the History of an export file, held in memory: offline
// replay with no server. Secret payloads are opened with the sealer when
// one is given; without it they stay sealed and read as placeholders
// (events.SealedPlaceholder).
//
// The file stays compressed in memory (logfile.Image); each event is
// kept as a fixed-size record of numbers (fileEvent: strings interned or
// in text slabs, the payload as an offset into the image) and rebuilt as
// an events.Event when it is read. A million events take ~150 MB besides
// the file instead of the 2.4 GB that decoded events with their payloads
// took, and the records hold no pointers, so the collector never scans
// them. Views are folded from the file's base snapshot; the last few are
// cached because one CLI command (describe) asks for the same point many
// times.
type FileHistory struct {
	header logfile.Header
	sealed bool   // no key: secret payloads are placeholders
	base   *Store // state at header.BaseSeq (nil without a base)
	img    *logfile.Image
	evs    []fileEvent
	objs   []fileObject // by fileEvent.obj
	strs   []string     // interned envelope values, by index; strs[0] is ""
	text   [][]byte     // slabs of events' ids and causes
	own    [][]byte     // payloads not read from the image (opened Secrets, placeholders)

	mu    sync.Mutex
	cache []*Store // most recent first, at most cacheViews
}

// fileEvent is one event of a FileHistory (see FileHistory.event).
type fileEvent struct {
	seq    uint64
	stamp  int64  // stream time, Unix nanoseconds
	time   int64  // the writer's clock, Unix nanoseconds (if hasTime)
	off    int64  // the payload's offset in the image
	text   uint64 // id then cause: slab<<32 | offset in h.text
	n      uint32 // the payload's length
	idLen  uint32
	cauLen uint32
	obj    uint32 // index in h.objs
	typ    uint32 // the rest index h.strs
	uid    uint32
	actor  uint32
	node   uint32
	labels uint32 // the Strom-Labels header as written
	owners uint32 // the Strom-Owners header as written
	own    uint32 // 1 + index in h.own when the payload is not the image's
	flags  uint8
}

const (
	fileHasTime = 1 << iota
	fileIgnorable
)

// fileObject is a subject and what it names, with the envelope values
// its last event had (the next one usually has the same).
type fileObject struct {
	subject, resource, namespace, name string
	uid, node, labels, owners          uint32
}

const (
	cacheViews = 4
	textSlab   = 1 << 20
)

// LoadFile reads an export file.
func LoadFile(path string, sealer *events.Sealer) (*FileHistory, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("opening log export: %w", err)
	}
	h, err := readImage(data, sealer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, nil
}

// ReadExport reads an export from r.
func ReadExport(r io.Reader, sealer *events.Sealer) (*FileHistory, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading log export: %w", err)
	}
	return readImage(data, sealer)
}

// readImage indexes an export's events and folds its newest view: this
// goroutine reads and keeps the records, another folds them as they
// come, so Latest is ready when loading ends.
func readImage(data []byte, sealer *events.Sealer) (*FileHistory, error) {
	img, err := logfile.OpenImage(data)
	if err != nil {
		return nil, err
	}
	h := &FileHistory{header: img.Header(), sealed: sealer == nil, img: img, strs: []string{""}}
	if h.header.HasBase {
		if b := img.Base(); b != nil {
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
	n := 0
	if h.header.Count < 64<<20 { // a corrupt count allocates nothing
		n = int(h.header.Count)
	}
	h.evs = make([]fileEvent, 0, n)
	if h.base == nil {
		return h, h.index(img, sealer, nil)
	}
	// Each step hands the folder the slices as they are then: what it
	// reads of them is never written again (growing copies to new ones).
	fold := make(chan foldStep, 64)
	folded := make(chan *Store, 1)
	go func() {
		latest := h.base.clone()
		f := &folder{labels: map[uint32]map[string]string{}, owners: map[uint32][]string{}}
		done := 0
		for s := range fold {
			f.objs, f.strs = s.objs, s.strs
			f.apply(latest, s.evs[done:])
			done = len(s.evs)
		}
		folded <- latest
	}()
	err = h.index(img, sealer, fold)
	close(fold)
	latest := <-folded
	if err != nil {
		return nil, err
	}
	if err := h.fill(latest); err != nil {
		return nil, err
	}
	h.cache = []*Store{latest}
	return h, nil
}

// index reads every record into h.evs, sending how many there are to
// fold (when not nil) every so often.
func (h *FileHistory) index(img *logfile.Image, sealer *events.Sealer, fold chan<- foldStep) error {
	recs := img.Records()
	strs := map[string]uint32{"": 0}
	intern := func(v string, last *uint32) uint32 {
		if h.strs[*last] == v {
			return *last
		}
		i, ok := strs[v]
		if !ok {
			i = uint32(len(h.strs))
			strs[v] = i
			h.strs = append(h.strs, v)
		}
		*last = i
		return i
	}
	var lastType, lastActor uint32
	next := h.header.FirstSeq
	for {
		rec, err := recs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rec.Seq != next {
			return fmt.Errorf("record #%d where #%d was expected", rec.Seq, next)
		}
		next++
		if int(rec.SubjectID) == len(h.objs) {
			res, ns, name, err := events.ParseSubject(rec.Subject)
			if err != nil {
				return fmt.Errorf("event #%d: %w", rec.Seq, err)
			}
			h.objs = append(h.objs, fileObject{subject: rec.Subject, resource: res, namespace: ns, name: name})
		}
		env, err := events.DecodeEnvelope(rec.Subject, rec, rec.Seq)
		if errors.Is(err, events.ErrIgnored) {
			continue
		}
		if err != nil {
			return err
		}
		o := &h.objs[rec.SubjectID]
		fe := fileEvent{seq: rec.Seq, stamp: rec.Stamp, off: rec.DataOff, n: uint32(len(rec.Data)), obj: rec.SubjectID}
		if !env.Time.IsZero() {
			fe.time, fe.flags = env.Time.UnixNano(), fe.flags|fileHasTime
		}
		if env.Ignorable {
			fe.flags |= fileIgnorable
		}
		fe.typ, fe.actor = intern(string(env.Type), &lastType), intern(env.Actor, &lastActor)
		fe.uid, fe.node = intern(env.UID, &o.uid), intern(env.NodeName, &o.node)
		fe.labels, fe.owners = intern(env.Labels, &o.labels), intern(env.Owners, &o.owners)
		fe.text, fe.idLen, fe.cauLen = h.keepText(env.ID, env.Cause)
		if env.Enc != "" {
			var obj []byte
			if sealer != nil {
				if obj, err = sealer.Open(rec.Data); err != nil {
					return fmt.Errorf("event #%d on %s: %w", rec.Seq, rec.Subject, err)
				}
			}
			h.own = append(h.own, obj)
			fe.own = uint32(len(h.own))
		}
		h.evs = append(h.evs, fe)
		if fe.own != 0 && sealer == nil && events.IsSecret(o.resource) {
			ev, _ := h.event(len(h.evs)-1, nil)
			h.own[fe.own-1] = events.SealedPlaceholder(ev)
		}
		if fold != nil && len(h.evs)&1023 == 0 {
			fold <- foldStep{h.evs, h.objs, h.strs}
		}
	}
	if fold != nil {
		fold <- foldStep{h.evs, h.objs, h.strs}
	}
	if h.header.Count > 0 && next != h.header.LastSeq+1 {
		return fmt.Errorf("records end at #%d, header says #%d", next-1, h.header.LastSeq)
	}
	return nil
}

// folder applies events to a view without their payloads (fill adds
// those of the entries left at the end), sharing one labels map and one
// owners slice among the events that wrote the same header.
type folder struct {
	objs   []fileObject
	strs   []string
	ev     events.Event
	labels map[uint32]map[string]string
	owners map[uint32][]string
}

// foldStep hands the folder the records read so far.
type foldStep struct {
	evs  []fileEvent
	objs []fileObject
	strs []string
}

func (h *FileHistory) newFolder() *folder {
	return &folder{objs: h.objs, strs: h.strs, labels: map[uint32]map[string]string{}, owners: map[uint32][]string{}}
}

func (f *folder) apply(st *Store, evs []fileEvent) {
	for i := range evs {
		fe := &evs[i]
		f.ev = fe.fold(f.objs, f.strs)
		if fe.labels != 0 {
			l, ok := f.labels[fe.labels]
			if !ok {
				l = events.DecodeLabels(f.strs[fe.labels])
				f.labels[fe.labels] = l
			}
			f.ev.Labels = l
		}
		if fe.owners != 0 {
			ow, ok := f.owners[fe.owners]
			if !ok {
				ow = strings.Split(f.strs[fe.owners], ",")
				f.owners[fe.owners] = ow
			}
			f.ev.Owners = ow
		}
		st.Apply(&f.ev)
	}
}

// fill reads the payloads of the entries a fold left without one (those
// after the base), in log order so each block is decompressed once.
func (h *FileHistory) fill(st *Store) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	var todo []*Entry
	for _, t := range st.tables {
		for _, m := range t.byNS {
			for _, e := range m {
				if e.Seq > h.header.BaseSeq && e.Data == nil {
					todo = append(todo, e)
				}
			}
		}
	}
	slices.SortFunc(todo, func(a, b *Entry) int { return cmp.Compare(a.Seq, b.Seq) })
	pr := h.img.Payloads()
	i := 0
	for _, e := range todo {
		for i < len(h.evs) && h.evs[i].seq < e.Seq {
			i++
		}
		if i == len(h.evs) || h.evs[i].seq != e.Seq {
			return fmt.Errorf("view entry %s/%s at #%d: no such event in the export", e.Resource, e.Key(), e.Seq)
		}
		fe := &h.evs[i]
		if fe.own != 0 {
			e.Data = h.own[fe.own-1]
			continue
		}
		var err error
		if e.Data, err = pr.Read(fe.off, int(fe.n)); err != nil {
			return fmt.Errorf("event #%d: %w", fe.seq, err)
		}
	}
	return nil
}

// keepText stores an event's id and cause in the text slabs.
func (h *FileHistory) keepText(id, cause string) (uint64, uint32, uint32) {
	n := len(id) + len(cause)
	if len(h.text) == 0 || cap(h.text[len(h.text)-1])-len(h.text[len(h.text)-1]) < n {
		h.text = append(h.text, make([]byte, 0, max(textSlab, n)))
	}
	i := len(h.text) - 1
	at := len(h.text[i])
	h.text[i] = append(append(h.text[i], id...), cause...)
	return uint64(i)<<32 | uint64(at), uint32(len(id)), uint32(len(cause))
}

// fold is what a fold needs of the event: its identity, type, uid and
// node (labels and owners are the folder's, shared).
func (fe *fileEvent) fold(objs []fileObject, strs []string) events.Event {
	o := &objs[fe.obj]
	return events.Event{Seq: fe.seq, Stamp: time.Unix(0, fe.stamp).UTC(), Type: events.Type(strs[fe.typ]),
		Resource: o.resource, Namespace: o.namespace, Name: o.name, UID: strs[fe.uid], NodeName: strs[fe.node]}
}

// event rebuilds h.evs[i]; with pr nil, without its payload.
func (h *FileHistory) event(i int, pr *logfile.PayloadReader) (*events.Event, error) {
	fe := &h.evs[i]
	ev := new(events.Event)
	*ev = fe.fold(h.objs, h.strs)
	slab, at := h.text[fe.text>>32], int(fe.text&(1<<32-1))
	ev.ID = string(slab[at : at+int(fe.idLen)])
	ev.Cause = string(slab[at+int(fe.idLen) : at+int(fe.idLen)+int(fe.cauLen)])
	ev.Actor, ev.Ignorable = h.strs[fe.actor], fe.flags&fileIgnorable != 0
	if fe.flags&fileHasTime != 0 {
		ev.Time = time.Unix(0, fe.time).UTC()
	}
	if l := h.strs[fe.labels]; l != "" {
		ev.Labels = events.DecodeLabels(l)
	}
	if o := h.strs[fe.owners]; o != "" {
		ev.Owners = strings.Split(o, ",")
	}
	switch {
	case pr == nil:
	case fe.own != 0:
		ev.Object = h.own[fe.own-1]
	default:
		var err error
		if ev.Object, err = pr.Read(fe.off, int(fe.n)); err != nil {
			return nil, fmt.Errorf("event #%d: %w", fe.seq, err)
		}
	}
	return ev, nil
}

// Header is the export's header.
func (h *FileHistory) Header() logfile.Header { return h.header }

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
	i := sort.Search(len(h.evs), func(i int) bool { return h.evs[i].seq >= q.From })
	var pr *logfile.PayloadReader
	if !q.HeadersOnly {
		pr = h.img.Payloads()
	}
	for ; i < len(h.evs); i++ {
		fe := &h.evs[i]
		if q.To != 0 && fe.seq > q.To {
			return nil
		}
		if len(q.Subjects) > 0 && !matchAny(q.Subjects, h.objs[fe.obj].subject) {
			continue
		}
		if i&1023 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		ev, err := h.event(i, pr)
		if err != nil {
			return err
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
	k := sort.Search(len(h.evs), func(i int) bool { return h.evs[i].seq > seq })
	h.newFolder().apply(st, h.evs[:k])
	if err := h.fill(st); err != nil {
		return nil, err
	}
	h.cache = append([]*Store{st}, h.cache...)
	if len(h.cache) > cacheViews {
		h.cache = h.cache[:cacheViews]
	}
	return st, nil
}

// SeqAt is the last event at or before t.
func (h *FileHistory) SeqAt(_ context.Context, t time.Time) (uint64, error) {
	i := sort.Search(len(h.evs), func(i int) bool { return time.Unix(0, h.evs[i].stamp).After(t) })
	if i > 0 {
		return h.evs[i-1].seq, nil
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
