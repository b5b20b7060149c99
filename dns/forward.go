package dns

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	mdns "github.com/miekg/dns"
	"go.uber.org/zap"
	"k8s.io/utils/clock"
)

// forwarder sends the questions outside the cluster zone to upstream
// resolvers, in order, through a response cache. Concurrent identical
// questions share one upstream exchange.
type forwarder struct {
	upstreams []string // host:port
	udp, tcp  *mdns.Client
	cache     *responseCache
	clock     clock.PassiveClock
	log       *zap.Logger
	maxTTL    time.Duration
	maxNeg    time.Duration

	mu       sync.Mutex // guards inflight
	inflight map[cacheKey]*flight
}

type flight struct {
	done chan struct{}
	msg  *mdns.Msg
	err  error
}

func newForwarder(upstreams []string, timeout time.Duration, cacheSize int, maxTTL, maxNeg time.Duration, clk clock.PassiveClock, log *zap.Logger) *forwarder {
	return &forwarder{
		upstreams: upstreams,
		udp:       &mdns.Client{Net: "udp", Timeout: timeout, UDPSize: ednsSize},
		tcp:       &mdns.Client{Net: "tcp", Timeout: timeout},
		cache:     newResponseCache(cacheSize),
		clock:     clk,
		log:       log,
		maxTTL:    maxTTL,
		maxNeg:    maxNeg,
		inflight:  map[cacheKey]*flight{},
	}
}

// forward answers req from the cache or the upstreams; SERVFAIL when no
// upstream answers.
func (f *forwarder) forward(ctx context.Context, req *mdns.Msg) *mdns.Msg {
	q := req.Question[0]
	do := false
	if opt := req.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	k := cacheKey{name: mdns.CanonicalName(q.Name), qtype: q.Qtype, qclass: q.Qclass, do: do}
	if m, ok := f.cache.get(k, f.clock.Now()); ok {
		return finishForwarded(m, req)
	}
	m, err := f.exchangeShared(ctx, k, req)
	if err != nil {
		f.log.Debug("forwarding failed", zap.String("name", q.Name), zap.Uint16("qtype", q.Qtype), zap.Error(err))
		resp := new(mdns.Msg)
		resp.SetRcode(req, mdns.RcodeServerFailure)
		resp.RecursionAvailable = true
		if req.IsEdns0() != nil {
			resp.SetEdns0(ednsSize, false)
		}
		return resp
	}
	return finishForwarded(m.Copy(), req)
}

// exchangeShared runs one upstream exchange per key at a time and caches
// its result.
func (f *forwarder) exchangeShared(ctx context.Context, k cacheKey, req *mdns.Msg) (*mdns.Msg, error) {
	f.mu.Lock()
	if fl, ok := f.inflight[k]; ok {
		f.mu.Unlock()
		select {
		case <-fl.done:
			return fl.msg, fl.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	fl := &flight{done: make(chan struct{})}
	f.inflight[k] = fl
	f.mu.Unlock()

	fl.msg, fl.err = f.exchange(ctx, k, req)
	if fl.err == nil {
		f.cache.put(k, fl.msg, f.clock.Now(), cacheTTL(fl.msg, f.maxTTL, f.maxNeg))
	}
	f.mu.Lock()
	delete(f.inflight, k)
	f.mu.Unlock()
	close(fl.done)
	return fl.msg, fl.err
}

// exchange asks each upstream in turn, over UDP and then TCP when the UDP
// answer is truncated.
func (f *forwarder) exchange(ctx context.Context, k cacheKey, req *mdns.Msg) (*mdns.Msg, error) {
	if len(f.upstreams) == 0 {
		return nil, errors.New("no upstream resolvers")
	}
	q := new(mdns.Msg)
	q.SetQuestion(req.Question[0].Name, k.qtype)
	q.Question[0].Qclass = k.qclass
	q.CheckingDisabled = req.CheckingDisabled
	q.SetEdns0(ednsSize, k.do)
	var errs []error
	for _, up := range f.upstreams {
		r, _, err := f.udp.ExchangeContext(ctx, q, up)
		if err == nil && r.Truncated {
			r, _, err = f.tcp.ExchangeContext(ctx, q, up)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("asking %s: %w", up, err))
			continue
		}
		if r.Rcode == mdns.RcodeServerFailure || r.Rcode == mdns.RcodeRefused {
			errs = append(errs, fmt.Errorf("asking %s: rcode %s", up, mdns.RcodeToString[r.Rcode]))
			continue
		}
		return r, nil
	}
	return nil, fmt.Errorf("forwarding %s: %w", k.name, errors.Join(errs...))
}

// finishForwarded turns an upstream response (a copy we own) into the reply
// to req: its ID and question, and our EDNS record when the client sent one.
func finishForwarded(m, req *mdns.Msg) *mdns.Msg {
	m.Id = req.Id
	m.Question = req.Question
	m.RecursionDesired = req.RecursionDesired
	m.RecursionAvailable = true
	m.Authoritative = false
	m.Response = true
	extra := m.Extra[:0]
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != mdns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	m.Extra = extra
	if opt := req.IsEdns0(); opt != nil {
		m.SetEdns0(ednsSize, opt.Do())
	}
	return m
}
