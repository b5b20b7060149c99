package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events"
)

// Config configures a Projection.
type Config struct {
	JetStream     jetstream.JetStream
	Sealer        *events.Sealer
	Logger        *zap.Logger
	SnapshotEvery uint64 // write a snapshot after this many events; 0: never
	KeepSnapshots int    // snapshots kept; default 16
	Name          string // consumer name prefix, shown in `strom stream info`
}

// Projection feeds a Store from the event stream.
type Projection struct {
	cfg    Config
	log    *zap.Logger
	store  *Store
	stream jetstream.Stream

	snapMu   sync.Mutex   // serialises snapshot writes
	listMu   sync.RWMutex // snapshot lists (read) vs deletes (write)
	lastSnap uint64
	snapCh   chan struct{}

	// decoded keeps the last few snapshots decoded, so repeated --at,
	// describe --at and diff near one point do not re-read and re-decode a
	// large snapshot each time. Callers get a clone: views are mutated by
	// the replay after the snapshot. Lock order: decodedMu alone.
	decodedMu sync.Mutex
	decoded   []decodedSnap
}

type decodedSnap struct {
	seq uint64
	st  *Store
}

// decodedCacheSize is how many decoded snapshots At keeps in memory.
const decodedCacheSize = 2

// New opens the stream; Start loads and follows it.
func New(ctx context.Context, cfg Config) (*Projection, error) {
	st, err := cfg.JetStream.Stream(ctx, events.StreamName)
	if err != nil {
		return nil, fmt.Errorf("opening stream %s: %w", events.StreamName, err)
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.KeepSnapshots == 0 {
		cfg.KeepSnapshots = 16
	}
	if cfg.Name == "" {
		cfg.Name = "projection"
	}
	return &Projection{cfg: cfg, log: cfg.Logger, stream: st, snapCh: make(chan struct{}, 1)}, nil
}

// Store is the live view (nil before Start).
func (p *Projection) Store() *Store { return p.store }

// Start builds the view from the newest snapshot plus the events after it,
// returns once it has caught up with the stream as it was when Start was
// called, and then follows new events until ctx ends.
func (p *Projection) Start(ctx context.Context) error {
	began := time.Now()
	info, err := p.stream.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	target := info.State.LastSeq
	st, snapSeq, err := p.loadSnapshot(ctx, target)
	if err != nil {
		p.log.Warn("ignoring unreadable snapshot; replaying the whole log", zap.Error(err))
		st, snapSeq = NewStore(), 0
	}
	p.store = st
	p.lastSnap = snapSeq
	replayed := uint64(0)
	if target > st.LastSeq() {
		n, err := p.replay(ctx, st, st.LastSeq()+1, target)
		if err != nil {
			return err
		}
		replayed = n
	}
	p.log.Info("projection ready",
		zap.Uint64("snapshot_seq", snapSeq), zap.Uint64("replayed", replayed),
		zap.Uint64("seq", st.LastSeq()), zap.Duration("took", time.Since(began)))
	if err := p.follow(ctx, st.LastSeq()+1); err != nil {
		return err
	}
	if p.cfg.SnapshotEvery > 0 {
		go p.snapshotLoop(ctx)
	}
	return nil
}

// replay applies events from..to (inclusive) to st and returns how many it
// applied. It fails with Gone if the log no longer holds from.
func (p *Projection) replay(ctx context.Context, st *Store, from, to uint64) (uint64, error) {
	if from > to {
		return 0, nil
	}
	cons, err := p.cfg.JetStream.OrderedConsumer(ctx, events.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.AllSubjects},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		NamePrefix:     uniqueName(p.cfg.Name + "-replay"),
	})
	if err != nil {
		return 0, fmt.Errorf("replaying from #%d: %w", from, err)
	}
	defer p.deleteConsumer(cons)
	var n uint64
	first := true
	done := make(chan error, 1)
	finish := func(err error) {
		select {
		case done <- err:
		default:
		}
	}
	// Consume delivers in order on one goroutine; the callback folds.
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		ev, err := decode(msg, p.cfg.Sealer)
		if errors.Is(err, events.ErrIgnored) {
			if ev.Seq >= to {
				finish(nil)
			}
			return
		}
		if err != nil {
			finish(err)
			return
		}
		if first && ev.Seq > from {
			finish(events.Errorf(events.ReasonGone, "the log starts at #%d: events from #%d are no longer kept", ev.Seq, from))
			return
		}
		first = false
		if ev.Seq > to {
			finish(nil)
			return
		}
		st.Apply(ev)
		n++
		if ev.Seq >= to {
			finish(nil)
		}
	}, jetstream.PullMaxMessages(8192))
	if err != nil {
		return 0, fmt.Errorf("replaying from #%d: %w", from, err)
	}
	defer cc.Stop()
	select {
	case err := <-done:
		return n, err
	case <-ctx.Done():
		return n, fmt.Errorf("replaying from #%d: %w", from, ctx.Err())
	}
}

// uniqueName gives each consumer its own name, readable in `strom stream
// info`: two consumers of one name but different start points conflict.
func uniqueName(prefix string) string { return prefix + "-" + nuid.Next()[12:] }

// deleteConsumer removes a finished consumer now rather than when the
// server notices it is inactive.
func (p *Projection) deleteConsumer(c jetstream.Consumer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = p.cfg.JetStream.DeleteConsumer(ctx, events.StreamName, c.CachedInfo().Name)
}

// nextMsg reads the next message, giving up when ctx ends.
func nextMsg(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	type res struct {
		m   jetstream.Msg
		err error
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= 0 {
		return nil, ctx.Err()
	}
	if ctx.Done() == nil {
		return it.Next()
	}
	ch := make(chan res, 1)
	go func() {
		m, err := it.Next()
		ch <- res{m, err}
	}()
	select {
	case r := <-ch:
		return r.m, r.err
	case <-ctx.Done():
		it.Stop()
		return nil, ctx.Err()
	}
}

// decode reads an event from a consumed message.
func decode(msg jetstream.Msg, sealer *events.Sealer) (*events.Event, error) {
	md, err := msg.Metadata()
	if err != nil {
		return nil, fmt.Errorf("message metadata: %w", err)
	}
	return events.DecodeMsg(msg.Subject(), msg.Headers(), msg.Data(), md.Sequence.Stream, md.Timestamp, sealer)
}

// follow applies new events as they arrive, in the background.
func (p *Projection) follow(ctx context.Context, from uint64) error {
	cons, err := p.cfg.JetStream.OrderedConsumer(ctx, events.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.AllSubjects},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		NamePrefix:     uniqueName(p.cfg.Name),
	})
	if err != nil {
		return fmt.Errorf("following from #%d: %w", from, err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		ev, err := decode(msg, p.cfg.Sealer)
		if errors.Is(err, events.ErrIgnored) {
			return
		}
		if err != nil {
			p.log.Error("projection stopped on an event it cannot apply", zap.Error(err))
			p.store.fail(fmt.Errorf("projection stopped: %w", err))
			return
		}
		p.store.Apply(ev)
		if p.cfg.SnapshotEvery > 0 && ev.Seq-p.lastSnapSeq() >= p.cfg.SnapshotEvery {
			select {
			case p.snapCh <- struct{}{}:
			default:
			}
		}
	}, jetstream.PullMaxMessages(4096))
	if err != nil {
		return fmt.Errorf("following from #%d: %w", from, err)
	}
	go func() {
		<-ctx.Done()
		cc.Stop()
		// Readers waiting for sequences this view will never apply now
		// return at once instead of waiting out their deadlines.
		p.store.fail(errors.New("the projection has stopped"))
	}()
	return nil
}

func (p *Projection) lastSnapSeq() uint64 {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	return p.lastSnap
}

func (p *Projection) snapshotLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.snapCh:
			// A trigger sent while the previous snapshot was being
			// written is stale once that one is stored: write only when
			// SnapshotEvery events have really passed since the last.
			if p.store.LastSeq()-p.lastSnapSeq() < p.cfg.SnapshotEvery {
				continue
			}
			if _, err := p.WriteSnapshot(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("writing snapshot", zap.Error(err))
			}
		}
	}
}

// snapName names a snapshot by its sequence, zero-padded so names sort.
func snapName(seq uint64) string { return fmt.Sprintf("snap-%020d", seq) }

func parseSnapName(n string) (uint64, bool) {
	s, ok := strings.CutPrefix(n, "snap-")
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

func (p *Projection) snapStore(ctx context.Context) (jetstream.ObjectStore, error) {
	os, err := p.cfg.JetStream.ObjectStore(ctx, events.SnapshotBucket)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", events.SnapshotBucket, err)
	}
	return os, nil
}

// WriteSnapshot stores the live view's current state and prunes old
// snapshots beyond KeepSnapshots. It returns the snapshot's sequence.
func (p *Projection) WriteSnapshot(ctx context.Context) (uint64, error) {
	p.snapMu.Lock()
	defer p.snapMu.Unlock()
	var buf bytes.Buffer
	seq, err := p.store.EncodeSnapshot(&buf, p.cfg.Sealer)
	if err != nil {
		return 0, err
	}
	if seq == 0 || seq == p.lastSnap {
		return seq, nil
	}
	os, err := p.snapStore(ctx)
	if err != nil {
		return 0, err
	}
	if _, err := os.Put(ctx, jetstream.ObjectMeta{Name: snapName(seq)}, &buf); err != nil {
		return 0, fmt.Errorf("storing snapshot #%d: %w", seq, err)
	}
	p.lastSnap = seq
	snaps, err := p.Snapshots(ctx)
	if err == nil {
		// Retention-aware: see retention.go.
		for _, s := range pruneSnapshots(snaps, p.firstSeq(ctx), p.cfg.KeepSnapshots) {
			p.listMu.Lock()
			err := os.Delete(ctx, snapName(s))
			p.listMu.Unlock()
			if err != nil {
				p.log.Warn("pruning snapshot", zap.Uint64("seq", s), zap.Error(err))
			}
		}
	}
	p.log.Debug("snapshot written", zap.Uint64("seq", seq), zap.Int("bytes", buf.Len()))
	return seq, nil
}

// Snapshots lists the stored snapshot sequences, oldest first.
//
// An object-store List racing with a Delete can wait forever for entries
// the delete purged (the client counts pending entries first), so lists
// and deletes exclude each other, and a list never waits unbounded.
func (p *Projection) Snapshots(ctx context.Context) ([]uint64, error) {
	os, err := p.snapStore(ctx)
	if err != nil {
		return nil, err
	}
	p.listMu.RLock()
	defer p.listMu.RUnlock()
	return snapshotSeqs(ctx, os)
}

// snapshotSeqs lists the snapshot sequences in a bucket, oldest first.
// A List can hang when a concurrent Delete purges an entry it counted
// on (pruning does, in this process or another), so each attempt waits
// at most 5 s and a hung one is retried.
func snapshotSeqs(ctx context.Context, os jetstream.ObjectStore) ([]uint64, error) {
	var infos []*jetstream.ObjectInfo
	var err error
	for attempt := 0; attempt < 6; attempt++ {
		lctx, cancel := context.WithTimeout(ctx, snapshotListTimeout)
		infos, err = os.List(lctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			break
		}
	}
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing snapshots: %w", err)
	}
	var out []uint64
	for _, in := range infos {
		if s, ok := parseSnapName(in.Name); ok && !in.Deleted {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// snapshotListTimeout bounds one attempt at listing the snapshots.
const snapshotListTimeout = 5 * time.Second

// loadSnapshot loads the newest snapshot at or before seq.
func (p *Projection) loadSnapshot(ctx context.Context, seq uint64) (*Store, uint64, error) {
	snaps, err := p.Snapshots(ctx)
	if err != nil {
		return nil, 0, err
	}
	for i := len(snaps) - 1; i >= 0; i-- {
		if snaps[i] > seq {
			continue
		}
		if st := p.cachedSnapshot(snaps[i]); st != nil {
			return st, snaps[i], nil
		}
		os, err := p.snapStore(ctx)
		if err != nil {
			return nil, 0, err
		}
		data, err := os.GetBytes(ctx, snapName(snaps[i]))
		if err != nil {
			if ctx.Err() != nil {
				return nil, 0, ctx.Err()
			}
			p.log.Warn("unreadable snapshot; trying an older one", zap.Uint64("seq", snaps[i]), zap.Error(err))
			continue
		}
		st, err := DecodeSnapshot(bytes.NewReader(data), p.cfg.Sealer)
		if err != nil {
			// A corrupt snapshot is derived data: an older one plus more
			// of the log gives the same view (retention keeps the log after
			// the oldest snapshot it keeps).
			p.log.Warn("corrupt snapshot; trying an older one", zap.Uint64("seq", snaps[i]), zap.Error(err))
			continue
		}
		p.cacheSnapshot(snaps[i], st)
		return st.clone(), snaps[i], nil
	}
	return NewStore(), 0, nil
}

// cachedSnapshot returns a clone of a decoded snapshot, or nil.
func (p *Projection) cachedSnapshot(seq uint64) *Store {
	p.decodedMu.Lock()
	defer p.decodedMu.Unlock()
	for _, d := range p.decoded {
		if d.seq == seq {
			return d.st.clone()
		}
	}
	return nil
}

func (p *Projection) cacheSnapshot(seq uint64, st *Store) {
	p.decodedMu.Lock()
	defer p.decodedMu.Unlock()
	p.decoded = append(p.decoded, decodedSnap{seq: seq, st: st})
	if len(p.decoded) > decodedCacheSize {
		p.decoded = p.decoded[1:]
	}
}

// At builds a view as of seq: exactly the state after the event at seq.
func (p *Projection) At(ctx context.Context, seq uint64) (*Store, error) {
	info, err := p.stream.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	if seq > info.State.LastSeq {
		return nil, events.Errorf(events.ReasonBadRequest, "#%d is in the future: the log ends at #%d", seq, info.State.LastSeq)
	}
	st, _, err := p.loadSnapshot(ctx, seq)
	if err != nil {
		p.log.Warn("ignoring unreadable snapshot for --at", zap.Error(err))
		st = NewStore()
	}
	if st.LastSeq() == 0 && info.State.FirstSeq > 1 && seq >= 1 {
		return nil, events.Errorf(events.ReasonGone, "#%d is before the oldest replayable point (the log starts at #%d and no snapshot covers it)", seq, info.State.FirstSeq)
	}
	if _, err := p.replay(ctx, st, st.LastSeq()+1, seq); err != nil {
		return nil, err
	}
	return st, nil
}

// SeqAt returns the sequence of the last event at or before t: the view
// "as of t" is At(SeqAt(t)).
func (p *Projection) SeqAt(ctx context.Context, t time.Time) (uint64, error) {
	info, err := p.stream.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	if info.State.Msgs == 0 || !t.Before(info.State.LastTime) {
		return info.State.LastSeq, nil
	}
	after := t.Add(time.Nanosecond)
	cons, err := p.cfg.JetStream.OrderedConsumer(ctx, events.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.AllSubjects},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &after,
		HeadersOnly:    true,
		NamePrefix:     uniqueName(p.cfg.Name + "-seek"),
	})
	if err != nil {
		return 0, fmt.Errorf("seeking %s: %w", t, err)
	}
	defer p.deleteConsumer(cons)
	msg, err := cons.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		return 0, fmt.Errorf("seeking %s: %w", t, err)
	}
	md, err := msg.Metadata()
	if err != nil {
		return 0, err
	}
	if md.Sequence.Stream <= info.State.FirstSeq && md.Timestamp.After(t) && info.State.FirstSeq > 1 {
		return 0, events.Errorf(events.ReasonGone, "%s is before the oldest event still kept (#%d at %s)", t.Format(time.RFC3339), info.State.FirstSeq, info.State.FirstTime.Format(time.RFC3339))
	}
	return md.Sequence.Stream - 1, nil
}
