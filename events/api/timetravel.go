package api

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
)

// Time-travel verbs. Each is written once against projections.History,
// so the same function answers for a live cluster (LiveHistory) and for
// an export file replayed offline (FileHistory, see ServeHistory).
const (
	VerbLog     = "log"
	VerbDiff    = "diff"
	VerbTrace   = "trace"
	VerbResolve = "resolve"
	VerbCheck   = "check"
)

// Env is what a history verb needs besides the history.
type Env struct {
	Now   time.Time
	Index *projections.CauseIndex
}

// HistoryHandler serves one verb from a History.
type HistoryHandler func(ctx context.Context, h projections.History, env *Env, req *Request) (*Response, error)

// historyVerbs are the verbs a replay server answers the same way as a
// live one.
var historyVerbs = map[string]HistoryHandler{}

func registerHistoryVerb(verb string, h HistoryHandler) {
	historyVerbs[verb] = h
	Register(verb, func(s *Server, ctx context.Context, _ string, req *Request) (*Response, error) {
		return h(ctx, s.cfg.Projection.History(), s.env(), req)
	})
}

// indexes holds one lazily built cause index per live projection.
var indexes sync.Map // *projections.Projection → *projections.CauseIndex

func (s *Server) env() *Env {
	x, _ := indexes.LoadOrStore(s.cfg.Projection, projections.NewCauseIndex())
	return &Env{Now: s.cfg.Clock.Now(), Index: x.(*projections.CauseIndex)}
}

// ResolvePoint turns a point in history into a sequence: a number is a
// sequence; an RFC 3339 time or -DURATION (before now) is the last event
// at or before that moment. ok is false for "".
func ResolvePoint(ctx context.Context, h projections.History, p string, now time.Time) (seq uint64, ok bool, err error) {
	if p == "" {
		return 0, false, nil
	}
	if seq, err := strconv.ParseUint(p, 10, 64); err == nil {
		return seq, true, nil
	}
	t, err := parsePointTime(p, now)
	if err != nil {
		return 0, false, err
	}
	seq, err = h.SeqAt(ctx, t)
	return seq, err == nil, err
}

func parsePointTime(p string, now time.Time) (time.Time, error) {
	bad := events.Errorf(events.ReasonBadRequest, "%q: not a sequence, an RFC 3339 time or -DURATION (e.g. -10m)", p)
	if strings.HasPrefix(p, "-") {
		d, err := time.ParseDuration(p[1:])
		if err != nil {
			return time.Time{}, bad
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, p)
	if err != nil {
		return time.Time{}, bad
	}
	return t, nil
}

// viewAt is the view at a point, or the latest one for "".
func viewAt(ctx context.Context, h projections.History, p string, now time.Time) (*projections.Store, error) {
	seq, ok, err := ResolvePoint(ctx, h, p, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		return h.Latest(ctx)
	}
	return h.At(ctx, seq)
}

func init() {
	registerHistoryVerb(VerbResolve, resolveVerb)
}

// ResolveResult is the resolve verb's Data.
type ResolveResult struct {
	Seq uint64 `json:"seq"`
}

// resolveVerb answers Params["at"] with a sequence.
func resolveVerb(ctx context.Context, h projections.History, env *Env, req *Request) (*Response, error) {
	seq, ok, err := ResolvePoint(ctx, h, req.Params["at"], env.Now)
	if err != nil {
		return nil, err
	}
	if !ok {
		b, err := h.Bounds(ctx)
		if err != nil {
			return nil, err
		}
		seq = b.LastSeq
	}
	return dataResponse(&ResolveResult{Seq: seq})
}

// dataResponse carries a verb-specific payload in Response.Data.
func dataResponse(v any) (*Response, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding response: %w", err)
	}
	return &Response{Data: data}, nil
}

// objectScope resolves a request's resource and namespace for one object
// or a filter: ns is "" for cluster-scoped kinds.
func objectScope(req *Request) (resource, ns string, namespaced bool, err error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return "", "", false, err
	}
	ns = req.Namespace
	if k.Namespaced && ns == "" {
		ns = "default"
	}
	if !k.Namespaced {
		ns = ""
	}
	return k.Resource, ns, k.Namespaced, nil
}

func errorf(reason events.Reason, msg string) error {
	return &events.Error{Reason: reason, Message: msg}
}
