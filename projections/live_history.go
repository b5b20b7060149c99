package projections

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/strom-project/strom/events"
)

// LiveHistory is the History of a running cluster: the JetStream stream,
// the projection's snapshots and its live view.
type LiveHistory struct{ p *Projection }

// History returns the projection's History.
func (p *Projection) History() *LiveHistory { return &LiveHistory{p: p} }

// Bounds reads the stream's state and the snapshots.
func (h *LiveHistory) Bounds(ctx context.Context) (Bounds, error) {
	info, err := h.p.stream.Info(ctx)
	if err != nil {
		return Bounds{}, fmt.Errorf("stream info: %w", err)
	}
	s := info.State
	b := Bounds{FirstSeq: s.FirstSeq, LastSeq: s.LastSeq, FirstTime: s.FirstTime, LastTime: s.LastTime, Count: s.Msgs}
	snaps, err := h.p.Snapshots(ctx)
	if err != nil {
		return b, err
	}
	b.Replayable, b.ReplayableOK = replayable(s.FirstSeq, snaps)
	return b, nil
}

// Events reads events with an ordered consumer, stopping at q.To or when
// caught up with the stream.
func (h *LiveHistory) Events(ctx context.Context, q EventQuery, fn func(*events.Event) error) error {
	return readStream(ctx, h.p.cfg.JetStream, h.p.cfg.Sealer, h.p.cfg.Name, q, func(m jetstream.Msg, md *jetstream.MsgMetadata) error {
		sealer := h.p.cfg.Sealer
		if q.HeadersOnly {
			sealer = nil // no payload to open
		}
		ev, err := events.DecodeMsg(m.Subject(), m.Headers(), m.Data(), md.Sequence.Stream, md.Timestamp, sealer)
		if errors.Is(err, events.ErrIgnored) {
			return nil
		}
		if err != nil {
			return err
		}
		if q.HeadersOnly {
			ev.Object = nil
		}
		return fn(ev)
	})
}

// readStream walks raw messages of q in order. It ends at q.To, when the
// consumer has nothing pending, or when fn returns ErrStop.
func readStream(ctx context.Context, js jetstream.JetStream, _ *events.Sealer, name string, q EventQuery, fn func(jetstream.Msg, *jetstream.MsgMetadata) error) error {
	st, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		return fmt.Errorf("opening stream: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("stream info: %w", err)
	}
	to := q.To
	if to == 0 || to > info.State.LastSeq {
		to = info.State.LastSeq
	}
	from := q.From
	if from < info.State.FirstSeq {
		from = info.State.FirstSeq
	}
	if info.State.Msgs == 0 || from > to {
		return nil
	}
	subjects := q.Subjects
	if len(subjects) == 0 {
		subjects = []string{events.AllSubjects}
	}
	if name == "" {
		name = "history"
	}
	cons, err := js.OrderedConsumer(ctx, events.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: subjects,
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		HeadersOnly:    q.HeadersOnly,
		NamePrefix:     uniqueName(name + "-read"),
	})
	if err != nil {
		return fmt.Errorf("reading from #%d: %w", from, err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = js.DeleteConsumer(dctx, events.StreamName, cons.CachedInfo().Name)
	}()
	// A filtered consumer with nothing to deliver would block: ask first.
	ci, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("reading from #%d: %w", from, err)
	}
	if ci.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(8192))
	if err != nil {
		return fmt.Errorf("reading from #%d: %w", from, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	for {
		msg, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return fmt.Errorf("reading from #%d: %w", from, err)
		}
		md, err := msg.Metadata()
		if err != nil {
			return fmt.Errorf("message metadata: %w", err)
		}
		if md.Sequence.Stream > to {
			return nil
		}
		if err := fn(msg, md); errors.Is(err, ErrStop) {
			return nil
		} else if err != nil {
			return err
		}
		if md.Sequence.Stream >= to || md.NumPending == 0 {
			return nil
		}
	}
}

// At is Projection.At.
func (h *LiveHistory) At(ctx context.Context, seq uint64) (*Store, error) { return h.p.At(ctx, seq) }

// SeqAt is Projection.SeqAt.
func (h *LiveHistory) SeqAt(ctx context.Context, t time.Time) (uint64, error) {
	return h.p.SeqAt(ctx, t)
}

// Latest is the live view, once it has applied what the stream held when
// asked (so a read follows the writes before it).
func (h *LiveHistory) Latest(ctx context.Context) (*Store, error) {
	last, err := events.LastSeq(ctx, h.p.cfg.JetStream)
	if err != nil {
		return nil, err
	}
	st := h.p.Store()
	if err := st.WaitFor(ctx, last); err != nil {
		return nil, err
	}
	return st, nil
}

// Snapshots is Projection.Snapshots.
func (h *LiveHistory) Snapshots(ctx context.Context) ([]uint64, error) { return h.p.Snapshots(ctx) }

// Snapshot loads one stored snapshot.
func (h *LiveHistory) Snapshot(ctx context.Context, seq uint64) (*Store, error) {
	data, err := h.p.SnapshotBytes(ctx, seq)
	if err != nil {
		return nil, err
	}
	return DecodeSnapshot(bytes.NewReader(data), h.p.cfg.Sealer)
}

// SnapshotBytes reads a stored snapshot as it is (secrets sealed).
func (p *Projection) SnapshotBytes(ctx context.Context, seq uint64) ([]byte, error) {
	os, err := p.snapStore(ctx)
	if err != nil {
		return nil, err
	}
	data, err := os.GetBytes(ctx, snapName(seq))
	if err != nil {
		return nil, fmt.Errorf("reading snapshot #%d: %w", seq, err)
	}
	return data, nil
}
