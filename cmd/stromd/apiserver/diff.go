package apiserver

import (
	"context"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// diff compares two points of history (api.VerbDiff).
func (c *Core) diff(ctx context.Context, _ Caller, req *api.Request) (*api.Response, error) {
	p := req.Params
	if p["from"] == "" {
		return nil, badRequest("diff: --from is required")
	}
	a, err := c.viewAt(ctx, "--from", p["from"])
	if err != nil {
		return nil, err
	}
	b, err := c.viewAt(ctx, "--to", p["to"])
	if err != nil {
		return nil, err
	}
	o := projections.DiffOptions{Name: req.Name, ShowMetadata: p["showMetadata"] == "true"}
	if req.Resource != "" {
		k, ns, err := objectScope(req)
		if err != nil {
			return nil, err
		}
		o.Resource = k.Resource
		if k.Namespaced && (req.Namespace != "" || req.Name != "") {
			o.Namespace = ns
		}
	} else if req.Namespace != "" {
		o.Namespace = req.Namespace
	}
	out := &api.DiffResult{From: a.LastSeq(), To: b.LastSeq(), Objects: projections.Diff(a, b, o)}
	if out.Objects == nil {
		out.Objects = []api.ObjectDiff{}
	}
	return dataResponse(out)
}
