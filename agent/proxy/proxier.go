package proxy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
	"k8s.io/utils/clock"
)

// ProxierConfig configures a Proxier.
type ProxierConfig struct {
	Config
	// MinSyncInterval is the least time between the starts of two syncs;
	// updates arriving meanwhile are coalesced into the next one.
	// Default 100 ms.
	MinSyncInterval time.Duration
	// FullSyncInterval forces a full rewrite of every chain this often,
	// repairing anything changed behind the proxy's back. Default 1 h;
	// negative disables.
	FullSyncInterval time.Duration
	// RetryMin and RetryMax bound the back-off after a failed sync.
	// Defaults 500 ms and 30 s.
	RetryMin, RetryMax time.Duration
}

func (c *ProxierConfig) defaults() {
	if c.MinSyncInterval <= 0 {
		c.MinSyncInterval = 100 * time.Millisecond
	}
	if c.FullSyncInterval == 0 {
		c.FullSyncInterval = time.Hour
	}
	if c.RetryMin <= 0 {
		c.RetryMin = 500 * time.Millisecond
	}
	if c.RetryMax <= 0 {
		c.RetryMax = 30 * time.Second
	}
}

// SyncMetrics describe the syncs so far; benchmarks read them.
type SyncMetrics struct {
	Syncs    int // successful syncs
	Failures int // failed syncs
	// Last successful sync.
	LastFull     bool
	LastServices int           // service ports rewritten (all on a full sync)
	LastBytes    int           // bytes of restore input, both tables (iptables mode)
	LastOps      int           // operations in the nftables transaction (nftables mode)
	LastRender   time.Duration // rendering and assembling the input
	LastRestore  time.Duration // running iptables-restore (and hooks on full syncs)
	// LastRestoreCPU is the CPU time iptables-restore used, when the
	// Runner reports it (ExecRunner does).
	LastRestoreCPU time.Duration
	LastDuration   time.Duration // whole sync
	// LastLatency is the time from the oldest update the sync applied
	// to the end of the sync: the rule programming latency.
	LastLatency time.Duration
	LastSyncAt  time.Time
}

// Proxier keeps the desired service ports and programs them into
// iptables through a Runner.
//
// Syncs are incremental: a service port's chains are rendered once and
// cached; a sync re-renders only the ports that changed, rewrites the
// top chains (STROM-SERVICES and the like, which list every service) and
// the changed ports' own chains, and deletes chains that are no longer
// used, all in one iptables-restore --noflush transaction per table.
// Chains of unchanged ports are not part of the input, so --noflush keeps
// them as they are. A full sync (every chain written) runs first, after
// any failure, and every FullSyncInterval.
//
// Lock order: syncMu before mu.
type Proxier struct {
	runner Runner
	cfg    ProxierConfig
	log    *zap.Logger
	clock  clock.Clock
	kick   chan struct{}

	mu           sync.Mutex // guards the fields below it up to syncMu
	desired      map[string]ServicePort
	dirty        map[string]bool
	pendingSince time.Time // when dirty became non-empty
	gen          uint64    // bumped on every change to desired
	applied      uint64    // generation the last successful sync applied
	appliedCh    chan struct{}
	metrics      SyncMetrics

	syncMu     sync.Mutex // serialises syncs; guards the fields below
	cache      map[string]*renderedService
	sorted     []*renderedService // cache values sorted by key; nil when stale
	natChains  map[string]bool    // per-service nat chains in the kernel
	lastFilter []byte
	lastTop    []byte
	needFull   bool
	lastFullAt time.Time
	started    bool
	failing    bool
	// nft is the nftables mode's state; nil in iptables mode.
	nft *nftState
}

// NewProxier returns a Proxier; call Run to start syncing. clk times
// the syncs and Run's waits; nil is the wall clock.
func NewProxier(runner Runner, cfg ProxierConfig, log *zap.Logger, clk clock.Clock) *Proxier {
	cfg.defaults()
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Proxier{
		runner:    runner,
		cfg:       cfg,
		log:       log,
		clock:     clk,
		kick:      make(chan struct{}, 1),
		desired:   map[string]ServicePort{},
		dirty:     map[string]bool{},
		appliedCh: make(chan struct{}),
		cache:     map[string]*renderedService{},
		natChains: map[string]bool{},
		needFull:  true,
	}
}

// NewNFTProxier returns a Proxier in nftables mode: it programs the
// table "ip strom" through runner instead of iptables (see nft.go).
func NewNFTProxier(runner NFTRunner, cfg ProxierConfig, log *zap.Logger, clk clock.Clock) *Proxier {
	p := NewProxier(nil, cfg, log, clk)
	p.nft = newNFTState(runner, p.cfg.Config)
	return p
}

// Update replaces the whole desired state.
func (p *Proxier) Update(state []ServicePort) {
	p.replace(state, func(string) bool { return true })
}

// OnServiceUpdate replaces the ports of one service; nil or empty ports
// remove it.
func (p *Proxier) OnServiceUpdate(namespace, name string, ports []ServicePort) {
	prefix := namespace + "/" + name + ":"
	p.replace(ports, func(k string) bool { return strings.HasPrefix(k, prefix) })
}

// replace sets the desired state of the ports in next and removes the
// desired ports in scope that next lacks, marking what changed dirty.
func (p *Proxier) replace(ports []ServicePort, inScope func(key string) bool) {
	next := make(map[string]ServicePort, len(ports))
	for i := range ports {
		next[ports[i].Key()] = ports[i].clone()
	}
	p.mu.Lock()
	changed := false
	for k, sp := range next {
		if old, ok := p.desired[k]; !ok || !old.equal(&sp) {
			p.desired[k] = sp
			p.markDirtyLocked(k)
			changed = true
		}
	}
	for k := range p.desired {
		if _, ok := next[k]; !ok && inScope(k) {
			delete(p.desired, k)
			p.markDirtyLocked(k)
			changed = true
		}
	}
	p.mu.Unlock()
	if changed {
		p.Kick()
	}
}

// markDirtyLocked records a changed key. Lock mu.
func (p *Proxier) markDirtyLocked(key string) {
	if len(p.dirty) == 0 {
		p.pendingSince = p.clock.Now()
	}
	p.dirty[key] = true
	p.gen++
}

// Kick asks for a sync soon.
func (p *Proxier) Kick() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Generation is the number of changes made to the desired state so far.
func (p *Proxier) Generation() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// WaitApplied blocks until a sync has applied generation gen.
func (p *Proxier) WaitApplied(ctx context.Context, gen uint64) error {
	for {
		p.mu.Lock()
		done, ch := p.applied >= gen, p.appliedCh
		p.mu.Unlock()
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for generation %d: %w", gen, ctx.Err())
		case <-ch:
		}
	}
}

// Metrics returns a copy of the sync metrics.
func (p *Proxier) Metrics() SyncMetrics {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.metrics
}

// Run syncs whenever kicked, at most once per MinSyncInterval, retrying
// failures with exponential back-off, until ctx ends.
func (p *Proxier) Run(ctx context.Context) {
	p.Kick() // the first sync programs the (possibly empty) state at once
	var lastStart time.Time
	retry := time.Duration(0)
	timer := p.clock.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wake <-chan time.Time
		if retry > 0 {
			timer.Reset(retry)
			wake = timer.C()
		} else if p.cfg.FullSyncInterval > 0 {
			timer.Reset(p.cfg.FullSyncInterval)
			wake = timer.C()
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-wake:
		}
		if !timer.Stop() {
			select {
			case <-timer.C():
			default:
			}
		}
		if wait := p.cfg.MinSyncInterval - p.clock.Since(lastStart); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-p.clock.After(wait):
			}
		}
		lastStart = p.clock.Now()
		if err := p.Sync(); err != nil {
			retry = min(max(2*retry, p.cfg.RetryMin), p.cfg.RetryMax)
			continue
		}
		retry = 0
	}
}

// Cleanup removes every rule and chain the proxy owns (see the Cleanup
// function); a later sync starts over with a full one. Stop Run first.
func (p *Proxier) Cleanup() error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	p.needFull = true
	if p.nft != nil {
		p.nft = newNFTState(p.nft.runner, p.cfg.Config)
		return nftDeleteTable(p.nft.runner)
	}
	clear(p.natChains)
	p.lastTop, p.lastFilter = nil, nil
	return Cleanup(p.runner)
}
