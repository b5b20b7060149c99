package apiserver

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
)

// WatchOptions says where a watch starts.
type WatchOptions struct {
	// From is the resourceVersion (stream sequence) the watch continues
	// after: every later change is delivered, replayed from the log when
	// it is older than the live view. 0 watches from now.
	From uint64
	// Initial lists the selected objects first, at the point the live
	// changes then start from (Kubernetes' sendInitialEvents).
	Initial bool
	// FutureWait is how long a From ahead of the view is waited for
	// before the watch is refused (kube-apiserver waits 3 s).
	FutureWait time.Duration
}

// Watch is a running watch: Initial (with Options.Initial) holds the
// objects as of Seq, and C every change after it, in order.
type Watch struct {
	Kind    *objects.Kind
	Initial []*projections.Entry
	Seq     uint64
	C       <-chan projections.WatchEvent
	// Err says why C closed: nil when ctx ended, a Gone error when From
	// is older than the log keeps, or the view's failure.
	Err func() error
}

// Watch starts a watch of the objects a request selects (Resource,
// Namespace or AllNamespaces, LabelSelector, FieldSelector). It is the one
// watch every transport serves; it ends with ctx.
func (c *Core) Watch(ctx context.Context, _ Caller, req *api.Request, o WatchOptions) (*Watch, error) {
	p := c.cfg.Projection
	if p == nil {
		return nil, events.Errorf(events.ReasonBadRequest, "this server replays a recorded log: watch needs a live cluster")
	}
	k, q, err := c.query(req)
	if err != nil {
		return nil, err
	}
	q.Limit, q.Continue = 0, ""
	live := p.Store()
	if o.Initial {
		items, lw, seq := live.ListAndWatch(ctx, q)
		return &Watch{Kind: k, Initial: items, Seq: seq, C: lw.C, Err: lw.Err}, nil
	}
	if last := live.LastSeq(); o.From > last {
		wait := o.FutureWait
		if wait <= 0 {
			wait = 3 * time.Second
		}
		wctx, cancel := context.WithTimeout(ctx, wait)
		err := live.WaitFor(wctx, o.From)
		cancel()
		if err != nil {
			return nil, &events.Error{Reason: events.ReasonTimeout, Err: err,
				Message: "Too large resource version: " + events.ResourceVersion(o.From) + ", current: " + events.ResourceVersion(live.LastSeq())}
		}
	}
	ch, errFn, err := p.WatchFrom(ctx, q, o.From)
	if err != nil {
		return nil, err
	}
	return &Watch{Kind: k, Seq: o.From, C: ch, Err: errFn}, nil
}

// query turns a list or watch request into the view's query.
func (c *Core) query(req *api.Request) (*objects.Kind, projections.Query, error) {
	k, ns, err := objectScope(req)
	if err != nil {
		return nil, projections.Query{}, err
	}
	q := projections.Query{Resource: k.Resource, Limit: req.Limit, Continue: req.Continue}
	if !req.AllNamespaces {
		q.Namespace = ns
	}
	if req.LabelSelector != "" {
		if q.Labels, err = labels.Parse(req.LabelSelector); err != nil {
			return nil, q, events.Errorf(events.ReasonBadRequest, "label selector %q: %v", req.LabelSelector, err)
		}
	}
	if q.Fields, err = projections.ParseFieldSelector(k.Resource, req.FieldSelector); err != nil {
		return nil, q, events.Errorf(events.ReasonBadRequest, "%v", err)
	}
	return k, q, nil
}
