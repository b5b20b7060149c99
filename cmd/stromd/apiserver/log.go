package apiserver

import (
	"context"
	"strconv"
	"time"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// The log verb (api.VerbLog) is a server-side verb, not a client-side
// consumer, so that one implementation serves a live cluster and a
// replayed file, filters run next to the data, Secret payloads are
// redacted before they leave the server, and clients need no JetStream
// permissions.

const (
	logDefaultLimit = 1000
	logMaxLimit     = 10000
	logMaxWait      = 30 * time.Second
)

func (c *Core) logVerb(ctx context.Context, _ Caller, req *api.Request) (*api.Response, error) {
	h := c.hist
	p := req.Params
	q := projections.EventQuery{HeadersOnly: p["objects"] != "true"}
	if p["from"] != "" {
		if _, err := strconv.ParseUint(p["from"], 10, 64); err == nil {
			q.From, _ = strconv.ParseUint(p["from"], 10, 64)
		} else {
			seq, _, err := c.resolvePoint(ctx, "--from", p["from"])
			if err != nil {
				return nil, err
			}
			q.From = seq + 1
		}
	}
	to, hasTo, err := c.resolvePoint(ctx, "--to", p["to"])
	if err != nil {
		return nil, err
	}
	limit := logDefaultLimit
	if n, err := strconv.Atoi(p["limit"]); err == nil && n > 0 {
		limit = min(n, logMaxLimit)
	}
	sub, err := logSubjects(p["kind"], p["namespace"])
	if err != nil {
		return nil, err
	}
	if sub != "" {
		q.Subjects = []string{sub}
	}
	actor := p["actor"]
	wait, _ := strconv.ParseFloat(p["wait"], 64)
	deadline := time.Now().Add(min(time.Duration(wait*float64(time.Second)), logMaxWait))
	for {
		b, err := h.Bounds(ctx)
		if err != nil {
			return nil, err
		}
		if q.From < b.FirstSeq {
			q.From = b.FirstSeq
		}
		q.To = b.LastSeq
		if hasTo && to < q.To {
			q.To = to
		}
		page := &api.LogPage{Last: b.LastSeq, Next: q.From}
		if q.From <= q.To {
			err = h.Events(ctx, q, func(ev *events.Event) error {
				page.Next = ev.Seq + 1
				if actor != "" && ev.Actor != actor {
					return nil
				}
				e := api.LogEntry{Seq: ev.Seq, Stamp: ev.Stamp, Time: ev.Time, ID: ev.ID, Type: ev.Type, Resource: ev.Resource,
					Namespace: ev.Namespace, Name: ev.Name, UID: ev.UID, Actor: ev.Actor, Cause: ev.Cause}
				if !q.HeadersOnly {
					e.Object = events.RedactObject(ev.Resource, ev.Object)
				}
				page.Events = append(page.Events, e)
				if len(page.Events) >= limit {
					return projections.ErrStop
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
			if len(page.Events) < limit {
				page.Next = q.To + 1 // filtered pages cover the whole range read
			}
		}
		page.End = hasTo && page.Next > to
		if _, static := h.(*projections.FileHistory); static && page.Next > b.LastSeq {
			page.End = true // a recorded log never grows: --follow ends here
		}
		if len(page.Events) > 0 || page.End || !time.Now().Before(deadline) {
			return dataResponse(page)
		}
		select {
		case <-ctx.Done():
			return dataResponse(page)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logSubjects is the subject filter for a kind and a namespace, either of
// which may be empty.
func logSubjects(kind, ns string) (string, error) {
	if kind == "" && ns == "" {
		return "", nil
	}
	res, nsTok := "*", "*"
	if kind != "" {
		k, err := lookup(kind)
		if err != nil {
			return "", err
		}
		res = k.Resource
		if !k.Namespaced && ns != "" {
			return "", events.Errorf(events.ReasonBadRequest, "%s are cluster-scoped: drop -n", k.Resource)
		}
	}
	if ns != "" {
		nsTok = events.EncodeToken(ns)
	}
	return events.SubjectPrefix + "." + res + "." + nsTok + ".*", nil
}
