package api

import (
	"context"

	"github.com/strom-project/strom/projections"
)

// The trace verb answers "what did this cause" and "why did this
// happen" for one object from the events' cause links. Params: why
// ("true": only the chain of causes of one event), seq (the event to
// explain; default the object's last event with why, its first
// otherwise), maxNodes.
//
// The cause index is built on the first trace by reading every envelope
// of the log once (headers only), then extended on each trace with what
// is new: a trace costs the size of its answer, not of the log.
func init() { registerHistoryVerb(VerbTrace, traceVerb) }

func traceVerb(ctx context.Context, h projections.History, env *Env, req *Request) (*Response, error) {
	if req.Name == "" {
		return nil, badRequest("trace: give one object: KIND/NAME")
	}
	res, ns, _, err := objectScope(req)
	if err != nil {
		return nil, err
	}
	seq, err := seqParam(req.Params, "seq")
	if err != nil {
		return nil, err
	}
	if err := env.Index.Update(ctx, h); err != nil {
		return nil, err
	}
	out, err := env.Index.Trace(res, ns, req.Name, projections.TraceOptions{Why: req.Params["why"] == "true", Seq: seq})
	if err != nil {
		return nil, err
	}
	return dataResponse(out)
}
