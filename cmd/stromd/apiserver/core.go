// Package apiserver is Strom's API core and its transports. The core (Core)
// answers every verb from one handler table: writes go through the write
// path (events.Writer), reads and time travel come from the projections'
// History (the latest view or the view at a point). Every front door is a
// thin transport over it: the NATS API (nats.go), the read-only replay
// server of a recorded log (the same core without a writer), and the
// HTTPS Kubernetes API to come.
package apiserver

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// Config wires the core to the write path and the history.
type Config struct {
	// Writer is the write path; nil makes the core read-only (a replay of
	// a recorded log): every write is refused.
	Writer *events.Writer
	// Projection is the live view; nil when History alone answers.
	Projection *projections.Projection
	// History answers reads at a point and the time-travel verbs; the
	// default is Projection.History().
	History projections.History
	Logger  *zap.Logger
	// Now is "now" for -DURATION points; a replay uses the file's last
	// event time, so -10m means ten minutes before the recording ended.
	// The default is the wall clock.
	Now  func() time.Time
	Info api.ClusterInfo
	// Source is shown by stream info: "live", or "file:<path>" for a
	// replay.
	Source string
	// Kubeconfig is the admin kubeconfig's path ("" without the HTTPS
	// API), answered to the admin by the kubeconfig verb.
	Kubeconfig string
	// NodeCredential gives node name's password, for the join verb; nil
	// refuses joins (an external NATS, whose users the operator manages).
	NodeCredential func(node string) (string, error)
}

// Core answers API requests, whichever transport they came through.
type Core struct {
	cfg   Config
	hist  projections.History
	log   *zap.Logger
	index *projections.CauseIndex // built on the first trace
	// written is the newest sequence a request was answered with: a read
	// waits for the view to apply it, so one CLI process reads what
	// another just wrote through this server (as kubectl's reads do).
	written atomic.Uint64
	// evictions serializes budget checks so that two concurrent evictions
	// cannot both spend the last allowed disruption.
	evictions sync.Mutex
}

// NewCore builds a core. It needs a Projection or a History.
func NewCore(cfg Config) *Core {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Source == "" {
		cfg.Source = "live"
	}
	h := cfg.History
	if h == nil && cfg.Projection != nil {
		h = cfg.Projection.History()
	}
	return &Core{cfg: cfg, hist: h, log: cfg.Logger, index: projections.NewCauseIndex()}
}

// ReadOnly reports whether the core refuses writes.
func (c *Core) ReadOnly() bool { return c.cfg.Writer == nil }

// Caller is who sent a request: the event's actor.
type Caller struct {
	User string
	// Node is set for a node's credential (User is system:node:<Node>):
	// the node authorizer decides its requests.
	Node string
	// Join is set for the join user, which may only call the join verb.
	Join bool
}

// verb is one entry of the handler table.
type verb struct {
	handle func(c *Core, ctx context.Context, who Caller, req *api.Request) (*api.Response, error)
	// write verbs are refused by a read-only core.
	write bool
	// slow verbs scan the whole log and get a longer deadline.
	slow bool
}

// verbs is the one handler table every transport serves.
var verbs = map[string]verb{
	api.VerbApply:   {handle: writeVerb(api.VerbApply), write: true},
	api.VerbCreate:  {handle: writeVerb(api.VerbCreate), write: true},
	api.VerbUpdate:  {handle: writeVerb(api.VerbUpdate), write: true},
	api.VerbStatus:  {handle: writeVerb(api.VerbStatus), write: true},
	api.VerbDelete:  {handle: (*Core).delete, write: true},
	api.VerbEvict:   {handle: (*Core).evict, write: true},
	api.VerbGet:     {handle: (*Core).get},
	api.VerbList:    {handle: (*Core).list},
	api.VerbHistory: {handle: (*Core).history},
	api.VerbStream:  {handle: (*Core).streamInfo},
	api.VerbInfo:    {handle: (*Core).info},
	api.VerbLog:     {handle: (*Core).logVerb},
	api.VerbDiff:    {handle: (*Core).diff, slow: true},
	api.VerbTrace:   {handle: (*Core).trace, slow: true},
	api.VerbResolve: {handle: (*Core).resolve},
	api.VerbCheck:   {handle: (*Core).check, slow: true},

	api.VerbKubeconfig: {handle: (*Core).kubeconfig},
	api.VerbJoin:       {handle: (*Core).join},
}

// Verbs lists every verb, sorted.
func Verbs() []string {
	out := make([]string, 0, len(verbs))
	for v := range verbs {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Timeout is how long a verb may take.
func Timeout(verbName string) time.Duration {
	if verbs[verbName].slow {
		return 10 * time.Minute
	}
	return 30 * time.Second
}

// Do answers one request. Errors are classified (events.Error).
func (c *Core) Do(ctx context.Context, verbName string, who Caller, req *api.Request) (*api.Response, error) {
	v, ok := verbs[verbName]
	if !ok {
		return nil, events.Errorf(events.ReasonBadRequest, "unknown verb %q", verbName)
	}
	if v.write && c.ReadOnly() {
		return nil, events.Errorf(events.ReasonForbidden, "this server replays a recorded log and is read-only")
	}
	switch {
	case who.Join != (verbName == api.VerbJoin):
		return nil, events.Errorf(events.ReasonForbidden, "User %q cannot use %q: only a joining node (the join token's user) asks for a node credential, and it may do nothing else", who.User, verbName)
	case who.Node != "":
		if err := c.authorizeNode(ctx, verbName, who, req); err != nil {
			return nil, err
		}
	}
	resp, err := v.handle(c, ctx, who, req)
	if err != nil {
		return nil, err
	}
	if resp != nil {
		for old := c.written.Load(); resp.Seq > old && !c.written.CompareAndSwap(old, resp.Seq); old = c.written.Load() {
		}
	}
	return resp, nil
}

// view returns the store a read answers from: the latest view, or the
// view at req.At. The live view is used once it has applied req.MinSeq and
// every write this core has answered.
func (c *Core) view(ctx context.Context, req *api.Request) (*projections.Store, error) {
	if req.At != "" {
		seq, _, err := c.resolvePoint(ctx, "--at", req.At)
		if err != nil {
			return nil, err
		}
		return c.hist.At(ctx, seq)
	}
	if p := c.cfg.Projection; p != nil {
		live := p.Store()
		if err := live.WaitFor(ctx, max(req.MinSeq, c.written.Load())); err != nil {
			return nil, err
		}
		return live, live.Err()
	}
	return c.hist.Latest(ctx)
}

// viewAt is the view at a point, or the latest one for "".
func (c *Core) viewAt(ctx context.Context, flag, point string) (*projections.Store, error) {
	seq, ok, err := c.resolvePoint(ctx, flag, point)
	if err != nil {
		return nil, err
	}
	if !ok {
		return c.hist.Latest(ctx)
	}
	return c.hist.At(ctx, seq)
}

// resolvePoint turns a point in history (--at, --from, --to) into a
// sequence: a number is a sequence; an RFC 3339 time or -DURATION (before
// now) is the last event at or before that moment. ok is false for "".
func (c *Core) resolvePoint(ctx context.Context, flag, p string) (seq uint64, ok bool, err error) {
	if p == "" {
		return 0, false, nil
	}
	if seq, err := strconv.ParseUint(p, 10, 64); err == nil {
		return seq, true, nil
	}
	bad := events.Errorf(events.ReasonBadRequest, "%s %q: not a sequence, an RFC 3339 time or -DURATION (e.g. -10m)", flag, p)
	var t time.Time
	if d, found := strings.CutPrefix(p, "-"); found {
		dur, err := time.ParseDuration(d)
		if err != nil {
			return 0, false, bad
		}
		t = c.cfg.Now().Add(-dur)
	} else if t, err = time.Parse(time.RFC3339Nano, p); err != nil {
		return 0, false, bad
	}
	seq, err = c.hist.SeqAt(ctx, t)
	return seq, err == nil, err
}

// kubeconfig answers the admin's kubeconfig, to the admin only: it holds
// the admin's client key.
func (c *Core) kubeconfig(_ context.Context, who Caller, _ *api.Request) (*api.Response, error) {
	if who.User != api.AdminUser {
		return nil, events.Errorf(events.ReasonForbidden, "user %q cannot read the admin kubeconfig", who.User)
	}
	if c.cfg.Kubeconfig == "" {
		return nil, events.Errorf(events.ReasonNotFound, "this stromd serves no Kubernetes API (start it with --api-listen)")
	}
	data, err := os.ReadFile(c.cfg.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading the kubeconfig: %w", err)
	}
	return dataResponse(&api.KubeconfigResult{Kubeconfig: string(data)})
}

// LiveSeq is the sequence the live view has applied; 0 without one.
func (c *Core) LiveSeq() uint64 {
	if p := c.cfg.Projection; p != nil {
		return p.Store().LastSeq()
	}
	return 0
}
