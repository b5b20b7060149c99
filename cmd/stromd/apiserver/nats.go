package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// NATS is the NATS transport of a Core: one micro service endpoint per
// verb on strom.api.<verb>.<user>. The caller is the subject's last token:
// NATS permissions let each user publish only on its own.
type NATS struct {
	core *Core
	log  *zap.Logger
	svc  micro.Service
	sem  chan struct{}
	ctx  context.Context
}

// NATSOptions tune the NATS transport.
type NATSOptions struct {
	// MaxInFlight bounds concurrently handled requests; default 256.
	MaxInFlight int
	Logger      *zap.Logger
}

// ServeNATS registers the core's verbs on conn and serves them until Stop
// or ctx ends.
func ServeNATS(ctx context.Context, conn *nats.Conn, core *Core, o NATSOptions) (*NATS, error) {
	if o.MaxInFlight == 0 {
		o.MaxInFlight = 256
	}
	if o.Logger == nil {
		o.Logger = core.log
	}
	version := core.cfg.Info.Version
	desc := "Strom control plane API"
	if core.ReadOnly() {
		desc = "Strom read-only replay API"
	}
	if strings.Count(version, ".") < 2 {
		version = "0.0.0-" + strings.Trim(version, ".") // micro wants semver
	}
	svc, err := micro.AddService(conn, micro.Config{Name: "strom", Version: version, Description: desc})
	if err != nil {
		return nil, fmt.Errorf("starting API service: %w", err)
	}
	n := &NATS{core: core, log: o.Logger, svc: svc, sem: make(chan struct{}, o.MaxInFlight), ctx: ctx}
	for _, v := range Verbs() {
		err := svc.AddEndpoint(v, micro.HandlerFunc(func(r micro.Request) { n.dispatch(v, r) }),
			micro.WithEndpointSubject(api.SubjectPrefix+"."+v+".*"))
		if err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("adding API endpoint %s: %w", v, err)
		}
	}
	context.AfterFunc(ctx, func() { _ = svc.Stop() })
	return n, nil
}

// Stop deregisters the endpoints, letting requests in flight finish.
func (n *NATS) Stop() {
	_ = n.svc.Stop()
	for i := 0; i < cap(n.sem); i++ {
		n.sem <- struct{}{}
	}
}

func (n *NATS) dispatch(verbName string, r micro.Request) {
	n.sem <- struct{}{}
	go func() {
		defer func() { <-n.sem }()
		resp := n.handle(verbName, r)
		data, err := json.Marshal(resp)
		if err != nil {
			data, _ = json.Marshal(&api.Response{Error: &api.WireError{Reason: events.ReasonInternal, Message: "encoding response: " + err.Error()}})
		}
		if err := r.Respond(data); err != nil {
			n.log.Warn("responding", zap.String("verb", verbName), zap.Error(err))
		}
	}()
}

func (n *NATS) handle(verbName string, r micro.Request) *api.Response {
	subj := r.Subject()
	who := CallerOf(subj[strings.LastIndexByte(subj, '.')+1:])
	var req api.Request
	if err := json.Unmarshal(r.Data(), &req); err != nil {
		return errResponse(events.Errorf(events.ReasonBadRequest, "malformed request: %v", err))
	}
	ctx, cancel := context.WithTimeout(n.ctx, Timeout(verbName))
	defer cancel()
	cause, err := RequestCause(who, req.Cause)
	if err != nil {
		return errResponse(err)
	}
	req.Cause = cause
	resp, err := n.core.Do(ctx, verbName, who, &req)
	if err != nil {
		if r := events.ReasonOf(err); r == events.ReasonInternal || r == events.ReasonTimeout {
			n.log.Error("request failed", zap.String("verb", verbName), zap.String("actor", who.User), zap.Error(err))
		}
		return errResponse(err)
	}
	return resp
}

func errResponse(err error) *api.Response {
	var st apierrors.APIStatus // events.Error is one
	if errors.As(err, &st) {
		s := st.Status()
		return &api.Response{Error: &api.WireError{Reason: events.ReasonOf(err), Message: s.Message, Details: s.Details}}
	}
	return &api.Response{Error: &api.WireError{Reason: events.ReasonInternal, Message: err.Error()}}
}

// CallerOf is who a NATS user is: a node's user acts as
// system:node:<name>, under the node authorizer.
func CallerOf(natsUser string) Caller {
	if node, ok := api.NodeOfUser(natsUser); ok {
		return Caller{User: api.NodeActorPrefix + node, Node: node}
	}
	return Caller{User: natsUser, Join: natsUser == api.JoinUser}
}

// RequestCause is the cause a client's writes are recorded with. The
// server sets it: a fresh request id ("req:<id>"), or, when the client
// names a request of its own (several writes of one `strom apply`), that
// id within the caller's own namespace ("req:<user>/<id>"), so that no
// client can make its write look caused by an event, by a controller or
// by another user's request.
func RequestCause(who Caller, asked string) (string, error) {
	if asked == "" {
		return "req:" + nuid.Next(), nil
	}
	id, _ := strings.CutPrefix(asked, "req:")
	if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) {
		return "", events.Errorf(events.ReasonBadRequest, "cause %q: a client may only name a request id of its own (letters, digits, '-' and '_', at most 64); causes by events are set by the server", asked)
	}
	return "req:" + who.User + "/" + id, nil
}
