package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/projections"
)

// ServerConfig wires the API to the write path and the projection.
type ServerConfig struct {
	Conn       *nats.Conn
	Writer     *events.Writer
	Projection *projections.Projection
	Logger     *zap.Logger
	Clock      clock.PassiveClock
	Info       ClusterInfo
	// MaxInFlight bounds concurrently handled requests; default 256.
	MaxInFlight int
	// ReadOnly refuses every write (a replay server).
	ReadOnly bool
	// Services allocates ClusterIPs and NodePorts on Service writes
	// (allocate.go); nil allocates nothing.
	Services *ServiceAllocator
}

// Server answers API requests.
type Server struct {
	cfg ServerConfig
	log *zap.Logger
	svc micro.Service
	sem chan struct{}
	ctx context.Context
	// written is the newest sequence a request was answered with: a read
	// waits for the view to apply it, so one CLI process reads what
	// another just wrote through this server (as kubectl's reads do).
	written atomic.Uint64
}

// NewServer builds a server; Start registers its endpoints.
func NewServer(cfg ServerConfig) *Server {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = 256
	}
	return &Server{cfg: cfg, log: cfg.Logger, sem: make(chan struct{}, cfg.MaxInFlight)}
}

// Start registers one micro endpoint per verb. Requests are handled
// concurrently, up to MaxInFlight at a time.
func (s *Server) Start(ctx context.Context) error {
	s.ctx = ctx
	svc, err := micro.AddService(s.cfg.Conn, micro.Config{
		Name: "strom", Version: s.cfg.Info.Version, Description: "Strom control plane API",
	})
	if err != nil {
		return fmt.Errorf("starting API service: %w", err)
	}
	for _, verb := range Verbs() {
		verb := verb
		err := svc.AddEndpoint(verb, micro.HandlerFunc(func(r micro.Request) { s.dispatch(verb, r) }),
			micro.WithEndpointSubject(SubjectPrefix+"."+verb+".*"))
		if err != nil {
			_ = svc.Stop()
			return fmt.Errorf("adding API endpoint %s: %w", verb, err)
		}
	}
	s.svc = svc
	return nil
}

// Stop deregisters the endpoints, letting requests in flight finish.
func (s *Server) Stop() {
	if s.svc != nil {
		_ = s.svc.Stop()
	}
	for i := 0; i < cap(s.sem); i++ {
		s.sem <- struct{}{}
	}
}

func (s *Server) dispatch(verb string, r micro.Request) {
	s.sem <- struct{}{}
	go func() {
		defer func() { <-s.sem }()
		resp := s.handle(verb, r)
		data, err := json.Marshal(resp)
		if err != nil {
			data, _ = json.Marshal(&Response{Error: &WireError{Reason: events.ReasonInternal, Message: "encoding response: " + err.Error()}})
		}
		if err := r.Respond(data); err != nil {
			s.log.Warn("responding", zap.String("verb", verb), zap.Error(err))
		}
	}()
}

func (s *Server) handle(verb string, r micro.Request) *Response {
	subj := r.Subject()
	actor := subj[strings.LastIndexByte(subj, '.')+1:]
	var req Request
	if err := json.Unmarshal(r.Data(), &req); err != nil {
		return errResponse(events.Errorf(events.ReasonBadRequest, "malformed request: %v", err))
	}
	timeout := 30 * time.Second
	if slowVerbs[verb] {
		timeout = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(s.ctx, timeout)
	defer cancel()
	if req.Cause == "" {
		req.Cause = "req:" + nuid.Next()
	}
	var resp *Response
	var err error
	if h := handlers[verb]; h != nil {
		resp, err = h(s, ctx, actor, &req)
	} else {
		err = events.Errorf(events.ReasonBadRequest, "unknown verb %q", verb)
	}
	if err != nil {
		if r := events.ReasonOf(err); r == events.ReasonInternal || r == events.ReasonTimeout {
			s.log.Error("request failed", zap.String("verb", verb), zap.String("actor", actor), zap.Error(err))
		}
		return errResponse(err)
	}
	if resp != nil {
		for old := s.written.Load(); resp.Seq > old && !s.written.CompareAndSwap(old, resp.Seq); old = s.written.Load() {
		}
	}
	return resp
}

// slowVerbs scan the whole log and get a longer deadline.
var slowVerbs = map[string]bool{"check": true, "trace": true, "diff": true}

// Handler serves one verb. actor is the caller's user name.
type Handler func(s *Server, ctx context.Context, actor string, req *Request) (*Response, error)

// handlers maps verbs to their handlers. Files add theirs in init with
// Register, so a new verb is a new file.
var handlers = map[string]Handler{}

// Register adds a verb. It panics on a duplicate, at start-up.
func Register(verb string, h Handler) {
	if handlers[verb] != nil {
		panic("api: verb registered twice: " + verb)
	}
	handlers[verb] = h
}

// Verbs lists every registered verb, sorted.
func Verbs() []string {
	out := make([]string, 0, len(handlers))
	for v := range handlers {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// Config returns the server's configuration (for handlers in other files).
func (s *Server) Config() *ServerConfig { return &s.cfg }

func errResponse(err error) *Response {
	var e *events.Error
	if errors.As(err, &e) {
		return &Response{Error: &WireError{Reason: e.Reason, Message: e.Message}}
	}
	return &Response{Error: &WireError{Reason: events.ReasonInternal, Message: err.Error()}}
}
