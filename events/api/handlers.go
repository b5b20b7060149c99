package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

func init() {
	for _, v := range []string{VerbApply, VerbCreate, VerbUpdate, VerbStatus} {
		v := v
		Register(v, func(s *Server, ctx context.Context, actor string, req *Request) (*Response, error) {
			return s.write(ctx, v, actor, req)
		})
	}
	Register(VerbDelete, func(s *Server, ctx context.Context, actor string, req *Request) (*Response, error) {
		return s.delete(ctx, actor, req)
	})
	Register(VerbGet, func(s *Server, ctx context.Context, _ string, req *Request) (*Response, error) {
		return s.get(ctx, req)
	})
	Register(VerbList, func(s *Server, ctx context.Context, _ string, req *Request) (*Response, error) {
		return s.list(ctx, req)
	})
	Register(VerbHistory, func(s *Server, ctx context.Context, _ string, req *Request) (*Response, error) {
		return s.history(ctx, req)
	})
	Register(VerbStream, func(s *Server, ctx context.Context, _ string, _ *Request) (*Response, error) {
		return s.streamInfo(ctx)
	})
	Register(VerbInfo, func(s *Server, _ context.Context, _ string, _ *Request) (*Response, error) {
		info := s.cfg.Info
		info.ViewSeq = s.cfg.Projection.Store().LastSeq()
		return &Response{Info: &info}, nil
	})
}

func lookup(resource string) (*objects.Kind, error) {
	if resource == "" {
		return nil, events.Errorf(events.ReasonBadRequest, "no resource type given")
	}
	k, err := objects.Lookup(resource)
	if err != nil {
		return nil, events.Errorf(events.ReasonNotFound, "%v", err)
	}
	return k, nil
}

func (s *Server) write(ctx context.Context, verb, actor string, req *Request) (*Response, error) {
	if s.cfg.ReadOnly {
		return nil, events.Errorf(events.ReasonForbidden, "this server replays a recorded log and is read-only")
	}
	if len(req.Object) == 0 {
		return nil, events.Errorf(events.ReasonBadRequest, "%s: no object given", verb)
	}
	obj, k, err := objects.DecodeJSON(req.Object)
	if err != nil {
		return nil, events.Errorf(events.ReasonInvalid, "%v", err)
	}
	if k.Namespaced {
		switch {
		case obj.GetNamespace() == "":
			obj.SetNamespace(req.Namespace)
		case req.Namespace != "" && obj.GetNamespace() != req.Namespace:
			return nil, events.Errorf(events.ReasonBadRequest, "the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation", obj.GetNamespace(), req.Namespace, obj.GetNamespace())
		}
	}
	opts := events.WriteOptions{Actor: actor, Cause: req.Cause, DryRun: req.DryRun}
	var res *events.Result
	switch verb {
	case VerbApply:
		res, err = s.cfg.Writer.Apply(ctx, obj, opts)
	case VerbCreate:
		res, err = s.cfg.Writer.Create(ctx, obj, opts)
	case VerbUpdate:
		res, err = s.cfg.Writer.Update(ctx, obj, opts)
	case VerbStatus:
		res, err = s.cfg.Writer.UpdateStatus(ctx, obj, opts)
	}
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(res.Object)
	if err != nil {
		return nil, fmt.Errorf("encoding result: %w", err)
	}
	return &Response{Outcome: string(res.Outcome), Kind: k.Kind, Object: data, Seq: res.Seq, Warnings: res.Warnings}, nil
}

func (s *Server) delete(ctx context.Context, actor string, req *Request) (*Response, error) {
	if s.cfg.ReadOnly {
		return nil, events.Errorf(events.ReasonForbidden, "this server replays a recorded log and is read-only")
	}
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, events.Errorf(events.ReasonBadRequest, "delete: no name given")
	}
	opts := events.WriteOptions{Actor: actor, Cause: req.Cause, DryRun: req.DryRun}
	d := events.DeleteOptions{
		Precondition: req.ResourceVersion,
		Propagation:  events.Propagation(req.Params["propagation"]),
		Now:          req.Params["final"] == "true" || req.Params["force"] == "true",
	}
	switch d.Propagation {
	case "", events.PropagationBackground, events.PropagationForeground, events.PropagationOrphan:
	default:
		return nil, events.Errorf(events.ReasonBadRequest, "propagation %q: want background, foreground or orphan", d.Propagation)
	}
	if g, ok := req.Params["grace"]; ok {
		v, perr := strconv.ParseInt(g, 10, 64)
		if perr != nil || v < 0 {
			return nil, events.Errorf(events.ReasonBadRequest, "grace period %q: want a whole number of seconds >= 0", g)
		}
		d.GracePeriod = &v
	}
	res, err := s.cfg.Writer.Delete(ctx, k, req.Namespace, req.Name, d, opts)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(res.Object)
	return &Response{Outcome: string(res.Outcome), Kind: k.Kind, Object: data, Seq: res.Seq}, nil
}

// view returns the store a read answers from: the live view (after it has
// applied MinSeq and every write this server has answered) or one rebuilt
// as of req.At.
func (s *Server) view(ctx context.Context, req *Request) (*projections.Store, error) {
	live := s.cfg.Projection.Store()
	if req.At == "" {
		if err := live.WaitFor(ctx, max(req.MinSeq, s.written.Load())); err != nil {
			return nil, err
		}
		return live, live.Err()
	}
	seq, err := ResolveAt(ctx, s.cfg.Projection, req.At, s.cfg.Clock.Now())
	if err != nil {
		return nil, err
	}
	return s.cfg.Projection.At(ctx, seq)
}

// ResolveAt turns --at's argument into a sequence: a number is a sequence,
// an RFC 3339 time or a negative duration (-10m: ten minutes ago) is the
// last event at or before that moment.
func ResolveAt(ctx context.Context, p *projections.Projection, at string, now time.Time) (uint64, error) {
	if seq, err := strconv.ParseUint(at, 10, 64); err == nil {
		return seq, nil
	}
	var t time.Time
	if strings.HasPrefix(at, "-") {
		d, err := time.ParseDuration(at[1:])
		if err != nil {
			return 0, events.Errorf(events.ReasonBadRequest, "--at %q: not a sequence, an RFC 3339 time or -DURATION (e.g. -10m)", at)
		}
		t = now.Add(-d)
	} else {
		var err error
		if t, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return 0, events.Errorf(events.ReasonBadRequest, "--at %q: not a sequence, an RFC 3339 time or -DURATION (e.g. -10m)", at)
		}
	}
	return p.SeqAt(ctx, t)
}

// objectJSON renders an entry with its resourceVersion, splicing it into
// the stored JSON rather than decoding and re-encoding the object.
func objectJSON(e *projections.Entry) json.RawMessage { return ObjectJSON(e) }

// ObjectJSON renders a view entry as the object's JSON with its
// resourceVersion.
func ObjectJSON(e *projections.Entry) json.RawMessage {
	const meta = `"metadata":{`
	i := strings.Index(string(e.Data), meta)
	if i < 0 {
		obj, err := e.Object()
		if err != nil {
			return e.Data
		}
		data, _ := json.Marshal(obj)
		return data
	}
	i += len(meta)
	rv := `"resourceVersion":"` + strconv.FormatUint(e.Seq, 10) + `"`
	out := make([]byte, 0, len(e.Data)+len(rv)+1)
	out = append(out, e.Data[:i]...)
	out = append(out, rv...)
	if e.Data[i] != '}' {
		out = append(out, ',')
	}
	out = append(out, e.Data[i:]...)
	return out
}

func (s *Server) get(ctx context.Context, req *Request) (*Response, error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	st, err := s.view(ctx, req)
	if err != nil {
		return nil, err
	}
	ns := ""
	if k.Namespaced {
		ns = req.Namespace
		if ns == "" {
			ns = "default"
		}
	}
	e, ok := st.Get(k.Resource, ns, req.Name)
	if !ok {
		if req.At != "" {
			return nil, events.Errorf(events.ReasonNotFound, "%s %q not found at #%d", k.Resource, req.Name, st.LastSeq())
		}
		return nil, events.Errorf(events.ReasonNotFound, "%s %q not found", k.Resource, req.Name)
	}
	return &Response{Kind: k.Kind, Object: objectJSON(e), Seq: st.LastSeq()}, nil
}

func (s *Server) list(ctx context.Context, req *Request) (*Response, error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	st, err := s.view(ctx, req)
	if err != nil {
		return nil, err
	}
	return listView(st, k, req)
}

// listView answers a list request from a view (live, --at, or replayed).
func listView(st *projections.Store, k *objects.Kind, req *Request) (*Response, error) {
	var err error
	q := projections.Query{Resource: k.Resource, Limit: req.Limit, Continue: req.Continue}
	if k.Namespaced && !req.AllNamespaces {
		q.Namespace = req.Namespace
		if q.Namespace == "" {
			q.Namespace = "default"
		}
	}
	if req.LabelSelector != "" {
		if q.Labels, err = labels.Parse(req.LabelSelector); err != nil {
			return nil, events.Errorf(events.ReasonBadRequest, "label selector %q: %v", req.LabelSelector, err)
		}
	}
	if q.Fields, err = projections.ParseFieldSelector(req.FieldSelector); err != nil {
		return nil, events.Errorf(events.ReasonBadRequest, "%v", err)
	}
	entries, cont := st.List(q)
	items := make([]json.RawMessage, len(entries))
	for i, e := range entries {
		items[i] = objectJSON(e)
	}
	return &Response{Kind: k.Kind, Items: items, Continue: cont, Seq: st.LastSeq()}, nil
}

func (s *Server) history(ctx context.Context, req *Request) (*Response, error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	ns := ""
	if k.Namespaced {
		ns = req.Namespace
		if ns == "" {
			ns = "default"
		}
	}
	hist, err := History(ctx, s.cfg.Writer.JetStream(), s.cfg.Writer.Sealer(), k, ns, req.Name, req.WithObjects)
	if err != nil {
		return nil, err
	}
	if len(hist) == 0 {
		return nil, events.Errorf(events.ReasonNotFound, "%s %q has no history", k.Resource, req.Name)
	}
	return &Response{Kind: k.Kind, History: hist}, nil
}

// History reads every event of one object from the log, oldest first.
func History(ctx context.Context, js jetstream.JetStream, sealer *events.Sealer, k *objects.Kind, ns, name string, withObjects bool) ([]HistoryEntry, error) {
	subj := events.Subject(k.Resource, ns, name)
	cons, err := js.OrderedConsumer(ctx, events.StreamName, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subj},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		NamePrefix:     "history-" + nuid.Next()[12:],
	})
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", subj, err)
	}
	defer func() {
		_ = js.DeleteConsumer(context.Background(), events.StreamName, cons.CachedInfo().Name)
	}()
	info, err := cons.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading history of %s: %w", subj, err)
	}
	pending := info.NumPending
	var out []HistoryEntry
	for pending > 0 {
		batch, err := cons.Fetch(int(min(pending, 1024)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			return nil, fmt.Errorf("reading history of %s: %w", subj, err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			md, err := msg.Metadata()
			if err != nil {
				return nil, err
			}
			ev, err := events.DecodeMsg(msg.Subject(), msg.Headers(), msg.Data(), md.Sequence.Stream, md.Timestamp, sealer)
			if errors.Is(err, events.ErrIgnored) {
				pending = md.NumPending
				continue
			}
			if err != nil {
				return nil, err
			}
			h := HistoryEntry{Seq: ev.Seq, Time: ev.Time, Type: ev.Type, ID: ev.ID, UID: ev.UID, Actor: ev.Actor, Cause: ev.Cause}
			if obj, err := objects.DecodeStored(k, ev.Object); err == nil {
				h.Generation = obj.GetGeneration()
				if withObjects {
					obj.SetResourceVersion(strconv.FormatUint(ev.Seq, 10))
					h.Object, _ = json.Marshal(obj)
					h.Object = events.RedactObject(k.Resource, h.Object) // history is for debugging, never for reading secrets
				}
			}
			out = append(out, h)
			pending = md.NumPending
		}
		if err := batch.Error(); err != nil {
			return nil, fmt.Errorf("reading history of %s: %w", subj, err)
		}
		if n == 0 {
			break
		}
	}
	return out, nil
}
