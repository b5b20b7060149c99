package apiserver

import (
	"context"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// trace (api.VerbTrace) answers "what did this cause" and "why did this
// happen" for one object from the events' cause links. Params: why
// ("true": only the chain of causes of one event), seq (the event to
// explain; default the object's last event with why, its first
// otherwise), maxNodes.
//
// The cause index is built on the first trace by reading every envelope
// of the log once (headers only), then extended on each trace with what
// is new: a trace costs the size of its answer, not of the log.
func (c *Core) trace(ctx context.Context, _ Caller, req *api.Request) (*api.Response, error) {
	if req.Name == "" {
		return nil, badRequest("trace: give one object: KIND/NAME")
	}
	k, ns, err := objectScope(req)
	if err != nil {
		return nil, err
	}
	seq, err := seqParam(req.Params, "seq")
	if err != nil {
		return nil, err
	}
	if err := c.index.Update(ctx, c.hist); err != nil {
		return nil, err
	}
	out, err := c.index.Trace(k.Resource, ns, req.Name, projections.TraceOptions{Why: req.Params["why"] == "true", Seq: seq})
	if err != nil {
		return nil, err
	}
	return dataResponse(out)
}
