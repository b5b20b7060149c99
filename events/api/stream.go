package api

import (
	"context"
	"fmt"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// StreamExtra is the stream verb's Data: what StreamInfo does not carry.
type StreamExtra struct {
	// Replayable is the oldest sequence --at can rebuild (see
	// projections.Bounds); ReplayableOK false means none can. The time is
	// set when every retained event is replayable (the first one's time).
	Replayable     uint64    `json:"replayable"`
	ReplayableOK   bool      `json:"replayableOK"`
	ReplayableTime time.Time `json:"replayableTime,omitempty"`
	// Source is "live" or "file:<path>" for a replay server.
	Source string `json:"source"`
}

func (s *Server) streamInfo(ctx context.Context) (*Response, error) {
	js := s.cfg.Writer.JetStream()
	st, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		return nil, fmt.Errorf("opening stream: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("stream info: %w", err)
	}
	c := info.Config
	out := &StreamInfo{
		Name: c.Name, Subjects: c.Subjects, Messages: info.State.Msgs, Bytes: info.State.Bytes,
		FirstSeq: info.State.FirstSeq, FirstTime: info.State.FirstTime,
		LastSeq: info.State.LastSeq, LastTime: info.State.LastTime,
		Objects: info.State.NumSubjects, Replicas: c.Replicas, Storage: c.Storage.String(),
		MaxAge: c.MaxAge.String(), MaxBytes: c.MaxBytes, Kinds: map[string]int{},
	}
	view := s.cfg.Projection.Store()
	out.ViewSeq = view.LastSeq()
	countKinds(out, view)
	now := s.cfg.Clock.Now()
	lister := st.ListConsumers(ctx)
	for ci := range lister.Info() {
		c := ConsumerInfo{
			Name: ci.Name, Filter: ci.Config.FilterSubjects, Delivered: ci.Delivered.Stream,
			Pending: ci.NumPending,
		}
		if ci.Config.FilterSubject != "" {
			c.Filter = []string{ci.Config.FilterSubject}
		}
		if ci.Delivered.Last != nil {
			c.LastActive = *ci.Delivered.Last
		}
		if c.Pending > 0 {
			// The oldest undelivered event is at or after the one
			// following the last delivered, and never before the log's
			// first (retention may have dropped the ones in between).
			next := max(c.Delivered+1, info.State.FirstSeq)
			if m, err := st.GetMsg(ctx, next); err == nil {
				c.LagSeconds = max(now.Sub(m.Time).Seconds(), 0)
			}
		}
		out.Consumers = append(out.Consumers, c)
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("listing consumers: %w", err)
	}
	if out.Snapshots, err = s.cfg.Projection.Snapshots(ctx); err != nil {
		return nil, err
	}
	resp := &Response{Stream: out}
	extra, err := streamExtra(ctx, s.cfg.Projection.History(), "live")
	if err != nil {
		return nil, err
	}
	resp.Data = extra.Data
	return resp, nil
}

func countKinds(out *StreamInfo, view *projections.Store) {
	for _, k := range objects.All() {
		if n := view.Count(k.Resource); n > 0 {
			out.Kinds[k.Kind] = n
		}
	}
}

// streamExtra computes the oldest replayable point of a history.
func streamExtra(ctx context.Context, h projections.History, source string) (*Response, error) {
	b, err := h.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	x := &StreamExtra{Replayable: b.Replayable, ReplayableOK: b.ReplayableOK, Source: source}
	if b.ReplayableOK && b.Replayable < b.FirstSeq {
		x.ReplayableTime = b.FirstTime // every retained event can be rebuilt
	}
	return dataResponse(x)
}
