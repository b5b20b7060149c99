package api

import (
	"context"
	"fmt"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
)

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
	for _, k := range objects.All() {
		if n := view.Count(k.Resource); n > 0 {
			out.Kinds[k.Kind] = n
		}
	}
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
			if m, err := st.GetMsg(ctx, c.Delivered+1); err == nil {
				c.LagSeconds = now.Sub(m.Time).Seconds()
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
	return &Response{Stream: out}, nil
}
