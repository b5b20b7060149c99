package apiserver

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// delete removes an object with Kubernetes' deletion rules, which live in
// the write path (events.Writer.Delete): this only reads the request's
// options.
func (c *Core) delete(ctx context.Context, who Caller, req *api.Request) (*api.Response, error) {
	k, err := lookup(req.Resource)
	if err != nil {
		return nil, err
	}
	if req.Name == "" {
		return nil, events.Errorf(events.ReasonBadRequest, "delete: no name given")
	}
	d := events.DeleteOptions{
		Precondition: req.ResourceVersion,
		Propagation:  events.Propagation(req.Params["propagation"]),
		Now:          req.Params["final"] == "true" || req.Params["force"] == "true",
	}
	if g, ok := req.Params["grace"]; ok {
		v, perr := strconv.ParseInt(g, 10, 64)
		if perr != nil || v < 0 {
			return nil, events.Errorf(events.ReasonBadRequest, "grace period %q: want a whole number of seconds >= 0", g)
		}
		d.GracePeriod = &v
	}
	opts := events.WriteOptions{Actor: who.User, Cause: req.Cause, DryRun: req.DryRun}
	res, err := c.cfg.Writer.Delete(ctx, k, req.Namespace, req.Name, d, opts)
	if err != nil {
		return nil, err
	}
	data, _ := json.Marshal(res.Object)
	return &api.Response{Outcome: string(res.Outcome), Kind: k.Kind, Object: data, Seq: res.Seq}, nil
}
