package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap"
	"k8s.io/utils/clock"
)

// Config configures a Server. Only Store is required.
type Config struct {
	// Addr is the UDP and TCP address to serve on; default ":53". Use
	// "127.0.0.1:0" for a free port.
	Addr  string
	Store *Store
	// Upstreams are the resolvers (host:port) for names outside the
	// zone. Default: the nameservers of ResolvConf.
	Upstreams []string
	// ResolvConf is read when Upstreams is empty; default /etc/resolv.conf.
	ResolvConf string
	Logger     *zap.Logger
	Clock      clock.PassiveClock
	// CacheSize bounds the forwarding cache; default 10,000 entries.
	CacheSize int
	// MaxCacheTTL caps positive cached answers; default 1 h.
	MaxCacheTTL time.Duration
	// MaxNegativeTTL caps cached NXDOMAIN and no-data answers; default 30 s.
	MaxNegativeTTL time.Duration
	// UpstreamTimeout bounds one exchange with one upstream; default 2 s.
	UpstreamTimeout time.Duration
	// UDPWorkers is the number of goroutines reading UDP; with a fixed
	// port each has its own SO_REUSEPORT socket. Default GOMAXPROCS.
	UDPWorkers int
	// MaxSlowQueries bounds the queries being forwarded or answered on the
	// message path at once; queries beyond it are dropped. Default 1024.
	MaxSlowQueries int
}

// Server serves a Store over UDP and TCP and forwards other names.
type Server struct {
	cfg   Config
	store *Store
	fwd   *forwarder
	log   *zap.Logger

	mu      sync.Mutex // guards the fields below
	started bool
	udps    []*net.UDPConn
	tcp     *mdns.Server
	cancel  context.CancelFunc
	done    chan struct{} // closed when a Stop has finished

	ctx     context.Context
	closing atomic.Bool
	wg      sync.WaitGroup
	slow    chan struct{} // semaphore of message-path queries
	dropped atomic.Uint64
}

// NewServer validates cfg and fills in defaults. It reads ResolvConf when
// no upstreams are given.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("creating DNS server: no store")
	}
	if cfg.Addr == "" {
		cfg.Addr = ":53"
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.RealClock{}
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = 10000
	}
	if cfg.MaxCacheTTL <= 0 {
		cfg.MaxCacheTTL = time.Hour
	}
	if cfg.MaxNegativeTTL <= 0 {
		cfg.MaxNegativeTTL = 30 * time.Second
	}
	if cfg.UpstreamTimeout <= 0 {
		cfg.UpstreamTimeout = 2 * time.Second
	}
	if cfg.UDPWorkers <= 0 {
		cfg.UDPWorkers = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxSlowQueries <= 0 {
		cfg.MaxSlowQueries = 1024
	}
	if len(cfg.Upstreams) == 0 {
		if cfg.ResolvConf == "" {
			cfg.ResolvConf = "/etc/resolv.conf"
		}
		cc, err := mdns.ClientConfigFromFile(cfg.ResolvConf)
		if err != nil {
			return nil, fmt.Errorf("creating DNS server: reading upstreams: %w", err)
		}
		for _, s := range cc.Servers {
			cfg.Upstreams = append(cfg.Upstreams, net.JoinHostPort(s, cc.Port))
		}
	}
	return &Server{
		cfg:   cfg,
		store: cfg.Store,
		log:   cfg.Logger,
		fwd:   newForwarder(cfg.Upstreams, cfg.UpstreamTimeout, cfg.CacheSize, cfg.MaxCacheTTL, cfg.MaxNegativeTTL, cfg.Clock, cfg.Logger),
		slow:  make(chan struct{}, cfg.MaxSlowQueries),
	}, nil
}

// Start binds UDP and TCP on the same port and serves until ctx ends or
// Stop is called.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("starting DNS server: already started")
	}
	udps, ln, err := listenAll(s.cfg.Addr, s.cfg.UDPWorkers)
	if err != nil {
		return fmt.Errorf("starting DNS server on %s: %w", s.cfg.Addr, err)
	}
	s.udps = udps
	udp := udps[0]
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})

	started := make(chan struct{})
	s.tcp = &mdns.Server{
		Listener:          ln,
		Net:               "tcp",
		Handler:           mdns.HandlerFunc(s.serveTCP),
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      5 * time.Second,
		IdleTimeout:       func() time.Duration { return 10 * time.Second },
		NotifyStartedFunc: func() { close(started) },
	}
	failed := make(chan error, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.tcp.ActivateAndServe(); err != nil && !s.closing.Load() {
			s.log.Error("serving DNS over TCP", zap.Error(err))
			failed <- err
		}
	}()
	select {
	case <-started:
	case err := <-failed:
		s.cancel()
		closeAll(udps)
		ln.Close()
		s.wg.Wait()
		return fmt.Errorf("starting DNS over TCP: %w", err)
	}
	for i := range s.cfg.UDPWorkers {
		s.wg.Add(1)
		go s.readUDP(udps[i%len(udps)])
	}
	s.started = true
	go func() {
		<-s.ctx.Done()
		s.Stop()
	}()
	s.log.Info("DNS server started", zap.String("addr", udp.LocalAddr().String()),
		zap.String("zone", s.store.Zone()), zap.Strings("upstreams", s.cfg.Upstreams))
	return nil
}

// Addr is the address the server listens on (UDP and TCP share the port).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.udps) == 0 {
		return ""
	}
	return s.udps[0].LocalAddr().String()
}

// Stop closes the sockets and waits for the queries in flight. A stopped
// server does not start again.
func (s *Server) Stop() {
	s.mu.Lock()
	if !s.started {
		s.mu.Unlock()
		return
	}
	if s.closing.Load() {
		s.mu.Unlock()
		<-s.done
		return
	}
	s.closing.Store(true)
	s.cancel()
	closeAll(s.udps)
	if err := s.tcp.Shutdown(); err != nil {
		s.log.Warn("stopping DNS over TCP", zap.Error(err))
	}
	s.mu.Unlock()
	s.wg.Wait()
	close(s.done)
}

// Dropped counts the queries dropped because too many were on the message
// path at once.
func (s *Server) Dropped() uint64 { return s.dropped.Load() }

func (s *Server) serveTCP(w mdns.ResponseWriter, req *mdns.Msg) {
	resp := s.handle(req)
	resp.Compress = true
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("writing DNS response over TCP", zap.Error(err))
	}
}

// handle answers req on the message path.
func (s *Server) handle(req *mdns.Msg) *mdns.Msg {
	resp, forward := s.store.respondMsg(req)
	if forward {
		resp = s.fwd.forward(s.ctx, req)
	}
	resp.Compress = true
	return resp
}
