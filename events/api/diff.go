package api

import (
	"context"
	"strconv"

	"github.com/strom-project/strom/projections"
)

// The diff verb compares two points of history. Params: from (required),
// to (default: now), showMetadata ("true"). Resource, Namespace and Name
// narrow it; with a Resource but no Namespace, a namespaced kind is
// compared in every namespace.
func init() { registerHistoryVerb(VerbDiff, diffVerb) }

// DiffResult is the diff verb's Data.
type DiffResult struct {
	From    uint64                   `json:"from"`
	To      uint64                   `json:"to"`
	Objects []projections.ObjectDiff `json:"objects"`
}

func diffVerb(ctx context.Context, h projections.History, env *Env, req *Request) (*Response, error) {
	p := req.Params
	if p["from"] == "" {
		return nil, badRequest("diff: --from is required")
	}
	a, err := viewAt(ctx, h, p["from"], env.Now)
	if err != nil {
		return nil, err
	}
	b, err := viewAt(ctx, h, p["to"], env.Now)
	if err != nil {
		return nil, err
	}
	o := projections.DiffOptions{Name: req.Name, ShowMetadata: p["showMetadata"] == "true"}
	if req.Resource != "" {
		res, ns, namespaced, err := objectScope(req)
		if err != nil {
			return nil, err
		}
		o.Resource = res
		if namespaced && (req.Namespace != "" || req.Name != "") {
			o.Namespace = ns
		}
	} else if req.Namespace != "" {
		o.Namespace = req.Namespace
	}
	out := &DiffResult{From: a.LastSeq(), To: b.LastSeq(), Objects: projections.Diff(a, b, o)}
	if out.Objects == nil {
		out.Objects = []projections.ObjectDiff{}
	}
	return dataResponse(out)
}

func badRequest(msg string) error { return errorf("BadRequest", msg) }

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
