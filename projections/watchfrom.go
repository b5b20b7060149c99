package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/strom-project/strom/events"
)

// WatchFrom delivers every change a query selects after sequence from, in
// order: first the history from the log (from+1 up to where the live view
// is), then live changes. from = 0 watches from now. The channel closes
// when ctx ends or the watch fails; the returned function says why.
func (p *Projection) WatchFrom(ctx context.Context, q Query, from uint64) (<-chan WatchEvent, func() error, error) {
	live, now := p.store.Watch(ctx, q)
	// The live watch already buffers watchBuffer events; out is only the
	// hand-over to the caller (a deep buffer here would double every
	// watch's memory: 64 KiB each).
	out := make(chan WatchEvent, 64)
	var werr error
	errFn := func() error { return werr }
	if from == 0 || from >= now {
		from = now
	}
	go func() {
		defer close(out)
		if from < now {
			if err := p.replayQuery(ctx, q, from+1, now, out); err != nil {
				werr = err
				live.Stop()
				return
			}
		}
		for we := range live.C {
			if we.Event.Seq <= from {
				continue
			}
			select {
			case out <- we:
			case <-ctx.Done():
				return
			}
		}
		werr = live.Err()
	}()
	return out, errFn, nil
}

// replayQuery sends the log's events from..to that q selects.
func (p *Projection) replayQuery(ctx context.Context, q Query, from, to uint64, out chan<- WatchEvent) error {
	filter := events.KindSubjects(q.Resource, q.Namespace)
	cons, err := p.cfg.JetStream.OrderedConsumer(ctx, events.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:    from,
		NamePrefix:     uniqueName(p.cfg.Name + "-watch"),
	})
	if err != nil {
		return fmt.Errorf("watch from #%d: %w", from, err)
	}
	defer p.deleteConsumer(cons)
	info, err := p.stream.Info(ctx)
	if err != nil {
		return err
	}
	if info.State.FirstSeq > from {
		return events.Errorf(events.ReasonGone, "watch from #%d: the log starts at #%d; list again", from-1, info.State.FirstSeq)
	}
	// Nothing of this resource may lie in the range: check before reading.
	ci, err := cons.Info(ctx)
	if err != nil {
		return err
	}
	if ci.NumPending == 0 {
		return nil
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(1024))
	if err != nil {
		return err
	}
	defer it.Stop()
	for {
		msg, err := nextMsg(ctx, it)
		if err != nil {
			return fmt.Errorf("watch from #%d: %w", from, err)
		}
		ev, err := decode(msg, p.cfg.Sealer)
		if errors.Is(err, events.ErrIgnored) {
			continue
		}
		if err != nil {
			return err
		}
		if ev.Seq > to {
			return nil
		}
		var e *Entry
		probe := &Entry{Resource: ev.Resource, Namespace: ev.Namespace, Name: ev.Name, UID: ev.UID, Seq: ev.Seq,
			Labels: ev.Labels, NodeName: ev.NodeName, Owners: ev.Owners, Data: ev.Object}
		if ev.Type != events.TypeDeleted {
			e = probe
		}
		if q.Matches(probe) {
			select {
			case out <- WatchEvent{Event: ev, Entry: e}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		md, _ := msg.Metadata()
		if ev.Seq >= to || (md != nil && md.NumPending == 0) {
			return nil
		}
	}
}
