package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// HistoryServerConfig configures a read-only API served from a History
// alone (an export file): `strom replay` and `stromd --replay`.
type HistoryServerConfig struct {
	Conn    *nats.Conn
	History projections.History
	Logger  *zap.Logger
	// Now is "now" for -DURATION points; a replay uses the file's last
	// event time, so -10m means ten minutes before the recording ended.
	Now    func() time.Time
	Info   ClusterInfo
	Source string // shown by stream info, e.g. "file:/tmp/x.stromlog"
}

// HistoryServer answers the read verbs and the time-travel verbs from a
// History; every write is refused.
type HistoryServer struct {
	cfg   HistoryServerConfig
	svc   micro.Service
	index *projections.CauseIndex
	sem   chan struct{}
}

// ServeHistory registers the endpoints and serves until Stop or ctx ends.
func ServeHistory(ctx context.Context, cfg HistoryServerConfig) (*HistoryServer, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	hs := &HistoryServer{cfg: cfg, index: projections.NewCauseIndex(), sem: make(chan struct{}, 64)}
	version := cfg.Info.Version
	if strings.Count(version, ".") < 2 {
		version = "0.0.0-" + strings.Trim(version, ".")
	}
	svc, err := micro.AddService(cfg.Conn, micro.Config{Name: "strom", Version: version, Description: "Strom read-only replay API"})
	if err != nil {
		return nil, fmt.Errorf("starting replay API: %w", err)
	}
	for _, verb := range Verbs() {
		verb := verb
		err := svc.AddEndpoint(verb, micro.HandlerFunc(func(r micro.Request) { hs.dispatch(ctx, verb, r) }),
			micro.WithEndpointSubject(SubjectPrefix+"."+verb+".*"))
		if err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("adding replay endpoint %s: %w", verb, err)
		}
	}
	hs.svc = svc
	context.AfterFunc(ctx, hs.Stop)
	return hs, nil
}

// Stop deregisters the endpoints.
func (hs *HistoryServer) Stop() { _ = hs.svc.Stop() }

func (hs *HistoryServer) dispatch(ctx context.Context, verb string, r micro.Request) {
	hs.sem <- struct{}{}
	go func() {
		defer func() { <-hs.sem }()
		var req Request
		var resp *Response
		if err := json.Unmarshal(r.Data(), &req); err != nil {
			resp = errResponse(events.Errorf(events.ReasonBadRequest, "malformed request: %v", err))
		} else {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			var err error
			resp, err = hs.handle(rctx, verb, &req)
			cancel()
			if err != nil {
				resp = errResponse(err)
			}
		}
		data, err := json.Marshal(resp)
		if err != nil {
			data, _ = json.Marshal(&Response{Error: &WireError{Reason: events.ReasonInternal, Message: "encoding response: " + err.Error()}})
		}
		if err := r.Respond(data); err != nil {
			hs.cfg.Logger.Warn("responding", zap.String("verb", verb), zap.Error(err))
		}
	}()
}

func (hs *HistoryServer) handle(ctx context.Context, verb string, req *Request) (*Response, error) {
	h := hs.cfg.History
	if hv := historyVerbs[verb]; hv != nil {
		return hv(ctx, h, &Env{Now: hs.cfg.Now(), Index: hs.index}, req)
	}
	switch verb {
	case VerbGet:
		return readGet(ctx, h, hs.cfg.Now(), req)
	case VerbList:
		return readList(ctx, h, hs.cfg.Now(), req)
	case VerbHistory:
		return readHistory(ctx, h, req)
	case VerbStream:
		return hs.streamInfo(ctx)
	case VerbInfo:
		info := hs.cfg.Info
		b, err := h.Bounds(ctx)
		if err != nil {
			return nil, err
		}
		info.ViewSeq = b.LastSeq
		return &Response{Info: &info}, nil
	case VerbApply, VerbCreate, VerbUpdate, VerbStatus, VerbDelete:
		return nil, events.Errorf(events.ReasonForbidden, "this server replays a recorded log and is read-only")
	}
	return nil, events.Errorf(events.ReasonBadRequest, "verb %q is not available when replaying a file", verb)
}

// readGet answers get from a History (a replay's get; the live server's
// is in handlers.go and reads the same Store the same way).
func readGet(ctx context.Context, h projections.History, now time.Time, req *Request) (*Response, error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	st, err := viewAt(ctx, h, req.At, now)
	if err != nil {
		return nil, err
	}
	ns := ""
	if k.Namespaced {
		if ns = req.Namespace; ns == "" {
			ns = "default"
		}
	}
	e, ok := st.Get(k.Resource, ns, req.Name)
	if !ok {
		return nil, events.Errorf(events.ReasonNotFound, "%s %q not found at #%d", k.Resource, req.Name, st.LastSeq())
	}
	return &Response{Kind: k.Kind, Object: objectJSON(e), Seq: st.LastSeq()}, nil
}

func readList(ctx context.Context, h projections.History, now time.Time, req *Request) (*Response, error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	st, err := viewAt(ctx, h, req.At, now)
	if err != nil {
		return nil, err
	}
	return listView(st, k, req)
}

// readHistory answers history from a History, Secret values redacted.
func readHistory(ctx context.Context, h projections.History, req *Request) (*Response, error) {
	res, ns, _, err := objectScope(req)
	if err != nil {
		return nil, err
	}
	k, _ := objects.Lookup(res)
	var out []HistoryEntry
	q := projections.EventQuery{Subjects: []string{events.Subject(res, ns, req.Name)}}
	err = h.Events(ctx, q, func(ev *events.Event) error {
		e := HistoryEntry{Seq: ev.Seq, Time: ev.Time, Type: ev.Type, ID: ev.ID, UID: ev.UID, Actor: ev.Actor, Cause: ev.Cause}
		if obj, err := objects.DecodeStored(k, ev.Object); err == nil {
			e.Generation = obj.GetGeneration()
			if req.WithObjects {
				obj.SetResourceVersion(strconv.FormatUint(ev.Seq, 10))
				data, _ := json.Marshal(obj)
				e.Object = events.RedactObject(res, data)
			}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, events.Errorf(events.ReasonNotFound, "%s %q has no history", res, req.Name)
	}
	return &Response{Kind: k.Kind, History: out}, nil
}

func (hs *HistoryServer) streamInfo(ctx context.Context) (*Response, error) {
	h := hs.cfg.History
	b, err := h.Bounds(ctx)
	if err != nil {
		return nil, err
	}
	out := &StreamInfo{Name: events.StreamName, Messages: b.Count, FirstSeq: b.FirstSeq, FirstTime: b.FirstTime,
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
	resp := &Response{Stream: out}
	extra, err := streamExtra(ctx, h, hs.cfg.Source)
	if err != nil {
		return nil, err
	}
	resp.Data = extra.Data
	return resp, nil
}
