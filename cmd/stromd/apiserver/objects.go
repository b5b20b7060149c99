package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// The object verbs: writes through the write path, reads from a view.

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

// objectScope resolves a request's kind and namespace for one object or a
// filter: ns is "" for cluster-scoped kinds and "default" when a
// namespaced kind's request names none.
func objectScope(req *api.Request) (k *objects.Kind, ns string, err error) {
	if k, err = lookup(req.Resource); err != nil {
		return nil, "", err
	}
	if k.Namespaced {
		if ns = req.Namespace; ns == "" {
			ns = "default"
		}
	}
	return k, ns, nil
}

func writeVerb(verbName string) func(c *Core, ctx context.Context, who Caller, req *api.Request) (*api.Response, error) {
	return func(c *Core, ctx context.Context, who Caller, req *api.Request) (*api.Response, error) {
		return c.write(ctx, verbName, who, req)
	}
}

func (c *Core) write(ctx context.Context, verbName string, who Caller, req *api.Request) (*api.Response, error) {
	if len(req.Object) == 0 {
		return nil, events.Errorf(events.ReasonBadRequest, "%s: no object given", verbName)
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
	opts := events.WriteOptions{Actor: who.User, Cause: req.Cause, DryRun: req.DryRun}
	w := c.cfg.Writer
	var res *events.Result
	switch verbName {
	case api.VerbApply:
		res, err = w.Apply(ctx, obj, opts)
	case api.VerbCreate:
		res, err = w.Create(ctx, obj, opts)
	case api.VerbUpdate:
		res, err = w.Update(ctx, obj, opts)
	case api.VerbStatus:
		res, err = w.UpdateStatus(ctx, obj, opts)
	}
	if err != nil {
		return nil, err
	}
	return resultResponse(k, res, string(res.Outcome))
}

// resultResponse answers a write with the object it stored.
func resultResponse(k *objects.Kind, res *events.Result, outcome string) (*api.Response, error) {
	data, err := json.Marshal(res.Object)
	if err != nil {
		return nil, fmt.Errorf("encoding result: %w", err)
	}
	return &api.Response{Outcome: outcome, Kind: k.Kind, Object: data, Seq: res.Seq, Warnings: res.Warnings}, nil
}

func (c *Core) get(ctx context.Context, _ Caller, req *api.Request) (*api.Response, error) {
	k, ns, err := objectScope(req)
	if err != nil {
		return nil, err
	}
	st, err := c.view(ctx, req)
	if err != nil {
		return nil, err
	}
	e, ok := st.Get(k.Resource, ns, req.Name)
	if !ok {
		nf := events.NewNotFound(k, req.Name)
		if req.At != "" || c.cfg.Projection == nil {
			nf.Message += fmt.Sprintf(" at #%d", st.LastSeq())
		}
		return nil, nf
	}
	return &api.Response{Kind: k.Kind, Object: e.JSON(), Seq: st.LastSeq()}, nil
}

func (c *Core) list(ctx context.Context, _ Caller, req *api.Request) (*api.Response, error) {
	k, q, err := c.query(req)
	if err != nil {
		return nil, err
	}
	st, err := c.view(ctx, req)
	if err != nil {
		return nil, err
	}
	entries, cont := st.List(q)
	items := make([]json.RawMessage, len(entries))
	for i, e := range entries {
		items[i] = e.JSON()
	}
	return &api.Response{Kind: k.Kind, Items: items, Continue: cont, Seq: st.LastSeq()}, nil
}

// history answers every event of one object, oldest first, Secret values
// redacted (history is for debugging, never for reading secrets).
func (c *Core) history(ctx context.Context, _ Caller, req *api.Request) (*api.Response, error) {
	k, ns, err := objectScope(req)
	if err != nil {
		return nil, err
	}
	var out []api.HistoryEntry
	q := projections.EventQuery{Subjects: []string{events.Subject(k.Resource, ns, req.Name)}}
	err = c.hist.Events(ctx, q, func(ev *events.Event) error {
		e := api.HistoryEntry{Seq: ev.Seq, Time: ev.Time, Type: ev.Type, ID: ev.ID, UID: ev.UID, Actor: ev.Actor, Cause: ev.Cause}
		if obj, err := objects.DecodeStored(k, ev.Object); err == nil {
			e.Generation = obj.GetGeneration()
			if req.WithObjects {
				obj.SetResourceVersion(events.ResourceVersion(ev.Seq))
				data, _ := json.Marshal(obj)
				e.Object = events.RedactObject(k.Resource, data)
			}
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading history of %s %s: %w", k.Resource, events.ObjectKey(ns, req.Name), err)
	}
	if len(out) == 0 {
		return nil, events.Errorf(events.ReasonNotFound, "%s %q has no history", k.Resource, req.Name)
	}
	return &api.Response{Kind: k.Kind, History: out}, nil
}

func (c *Core) info(ctx context.Context, _ Caller, _ *api.Request) (*api.Response, error) {
	info := c.cfg.Info
	if p := c.cfg.Projection; p != nil {
		info.ViewSeq = p.Store().LastSeq()
	} else {
		b, err := c.hist.Bounds(ctx)
		if err != nil {
			return nil, err
		}
		info.ViewSeq = b.LastSeq
	}
	return &api.Response{Info: &info}, nil
}

// resolve answers Params["at"] with a sequence (the last one for "").
func (c *Core) resolve(ctx context.Context, _ Caller, req *api.Request) (*api.Response, error) {
	seq, ok, err := c.resolvePoint(ctx, "--at", req.Params["at"])
	if err != nil {
		return nil, err
	}
	if !ok {
		b, err := c.hist.Bounds(ctx)
		if err != nil {
			return nil, err
		}
		seq = b.LastSeq
	}
	return dataResponse(&api.ResolveResult{Seq: seq})
}

// dataResponse carries a verb-specific payload in Response.Data.
func dataResponse(v any) (*api.Response, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding response: %w", err)
	}
	return &api.Response{Data: data}, nil
}

func badRequest(msg string) error {
	return &events.Error{Reason: events.ReasonBadRequest, Message: msg}
}

// seqParam reads an optional sequence parameter.
func seqParam(p map[string]string, key string) (uint64, error) {
	if p[key] == "" {
		return 0, nil
	}
	v, err := strconv.ParseUint(p[key], 10, 64)
	if err != nil {
		return 0, badRequest(key + ": not a sequence: " + p[key])
	}
	return v, nil
}
