package apiserver

import (
	"context"
	"fmt"
	"strings"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// streamInfo describes the log for `strom stream info`: the live stream
// with its consumers, or a recorded log's header and bounds.
func (c *Core) streamInfo(ctx context.Context, _ Caller, _ *api.Request) (*api.Response, error) {
	if c.cfg.Writer == nil {
		return c.recordedStreamInfo(ctx)
	}
	return c.liveStreamInfo(ctx)
}

func (c *Core) liveStreamInfo(ctx context.Context) (*api.Response, error) {
	js := c.cfg.Writer.JetStream()
	st, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		return nil, fmt.Errorf("opening stream: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	sc := info.Config
	out := &api.StreamInfo{
		Name: sc.Name, Subjects: sc.Subjects, Messages: info.State.Msgs, Bytes: info.State.Bytes,
		FirstSeq: info.State.FirstSeq, FirstTime: info.State.FirstTime,
		LastSeq: info.State.LastSeq, LastTime: info.State.LastTime,
		Objects: info.State.NumSubjects, Replicas: sc.Replicas, Storage: sc.Storage.String(),
		MaxAge: sc.MaxAge.String(), MaxBytes: sc.MaxBytes, Kinds: map[string]int{},
	}
	view := c.cfg.Projection.Store()
	out.ViewSeq = view.LastSeq()
	countKinds(out, view)
	now := c.cfg.Now()
	lister := st.ListConsumers(ctx)
	for ci := range lister.Info() {
		cons := api.ConsumerInfo{
			Name: ci.Name, Filter: ci.Config.FilterSubjects, Delivered: ci.Delivered.Stream,
			Pending: ci.NumPending,
		}
		if ci.Config.FilterSubject != "" {
			cons.Filter = []string{ci.Config.FilterSubject}
		}
		if ci.Delivered.Last != nil {
			cons.LastActive = *ci.Delivered.Last
		}
		if cons.Pending > 0 {
			// The oldest undelivered event is at or after the one
			// following the last delivered, and never before the log's
			// first (retention may have dropped the ones in between).
			next := max(cons.Delivered+1, info.State.FirstSeq)
			if m, err := st.GetMsg(ctx, next); err == nil {
				cons.LagSeconds = max(now.Sub(m.Time).Seconds(), 0)
			}
		}
		out.Consumers = append(out.Consumers, cons)
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("listing consumers: %w", err)
	}
	if out.Snapshots, err = c.cfg.Projection.Snapshots(ctx); err != nil {
		return nil, err
	}
	resp := &api.Response{Stream: out}
	extra, err := streamExtra(ctx, c.hist, c.cfg.Source)
	if err != nil {
		return nil, err
	}
	resp.Data = extra.Data
	return resp, nil
}

func countKinds(out *api.StreamInfo, view *projections.Store) {
	for _, k := range objects.All() {
		if n := view.Count(k.Resource); n > 0 {
			out.Kinds[k.Kind] = n
		}
	}
}

// streamExtra computes the oldest replayable point of a history.
func streamExtra(ctx context.Context, h projections.History, source string) (*api.Response, error) {
	b, err := h.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	x := &api.StreamExtra{Replayable: b.Replayable, ReplayableOK: b.ReplayableOK, Source: source}
	if b.ReplayableOK && b.Replayable < b.FirstSeq {
		x.ReplayableTime = b.FirstTime // every retained event can be rebuilt
	}
	return dataResponse(x)
}

func (c *Core) recordedStreamInfo(ctx context.Context) (*api.Response, error) {
	h := c.hist
	b, err := h.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	out := &api.StreamInfo{Name: events.StreamName, Messages: b.Count, FirstSeq: b.FirstSeq, FirstTime: b.FirstTime,
		LastSeq: b.LastSeq, LastTime: b.LastTime, Storage: "file (replay)", Kinds: map[string]int{}, ViewSeq: b.LastSeq}
	if fh, ok := h.(*projections.FileHistory); ok {
		hd := fh.Header()
		out.Subjects, out.MaxAge, out.MaxBytes, out.Replicas = hd.Stream.Subjects, hd.Stream.MaxAge.String(), hd.Stream.MaxBytes, hd.Stream.Replicas
		if hd.Stream.Name != "" {
			out.Name = hd.Stream.Name
		}
	}
	view, err := h.Latest(ctx)
	if err != nil && !strings.Contains(err.Error(), "no base") {
		return nil, err
	}
	if view != nil {
		countKinds(out, view)
	}
	if out.Snapshots, err = h.Snapshots(ctx); err != nil {
		return nil, err
	}
	resp := &api.Response{Stream: out}
	extra, err := streamExtra(ctx, h, c.cfg.Source)
	if err != nil {
		return nil, err
	}
	resp.Data = extra.Data
	return resp, nil
}
