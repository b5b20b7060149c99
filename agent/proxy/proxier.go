package proxy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Clock tells the time; tests and benchmarks may inject their own.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

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
	LastBytes    int           // bytes of restore input, both tables
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
	clock  Clock
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
}

// NewProxier returns a Proxier; call Run to start syncing. clock may be
// nil for the wall clock.
func NewProxier(runner Runner, cfg ProxierConfig, log *zap.Logger, clock Clock) *Proxier {
	cfg.defaults()
	if clock == nil {
		clock = realClock{}
	}
	return &Proxier{
		runner:    runner,
		cfg:       cfg,
		log:       log,
		clock:     clock,
		kick:      make(chan struct{}, 1),
		desired:   map[string]ServicePort{},
		dirty:     map[string]bool{},
		appliedCh: make(chan struct{}),
		cache:     map[string]*renderedService{},
		natChains: map[string]bool{},
		needFull:  true,
	}
}

// Update replaces the whole desired state.
func (p *Proxier) Update(state []ServicePort) {
	next := make(map[string]ServicePort, len(state))
	for i := range state {
		next[state[i].Key()] = state[i].clone()
	}
	p.mu.Lock()
	changed := false
	for k, sp := range next {
		if old, ok := p.desired[k]; !ok || !old.equal(&sp) {
			p.desired[k] = sp
			changed = p.markDirtyLocked(k) || changed
		}
	}
	for k := range p.desired {
		if _, ok := next[k]; !ok {
			delete(p.desired, k)
			changed = p.markDirtyLocked(k) || changed
		}
	}
	p.mu.Unlock()
	if changed {
		p.Kick()
	}
}

// OnServiceUpdate replaces the ports of one service; nil or empty ports
// remove it.
func (p *Proxier) OnServiceUpdate(namespace, name string, ports []ServicePort) {
	prefix := namespace + "/" + name + ":"
	next := make(map[string]ServicePort, len(ports))
	for i := range ports {
		next[ports[i].Key()] = ports[i].clone()
	}
	p.mu.Lock()
	changed := false
	for k, sp := range next {
		if old, ok := p.desired[k]; !ok || !old.equal(&sp) {
			p.desired[k] = sp
			changed = p.markDirtyLocked(k) || changed
		}
	}
	for k := range p.desired {
		if _, ok := next[k]; !ok && strings.HasPrefix(k, prefix) {
			delete(p.desired, k)
			changed = p.markDirtyLocked(k) || changed
		}
	}
	p.mu.Unlock()
	if changed {
		p.Kick()
	}
}

// markDirtyLocked records a changed key. Lock mu.
func (p *Proxier) markDirtyLocked(key string) bool {
	if len(p.dirty) == 0 {
		p.pendingSince = p.clock.Now()
	}
	p.dirty[key] = true
	p.gen++
	return true
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
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		var wake <-chan time.Time
		if retry > 0 {
			timer.Reset(retry)
			wake = timer.C
		} else if p.cfg.FullSyncInterval > 0 {
			timer.Reset(p.cfg.FullSyncInterval)
			wake = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-p.kick:
		case <-wake:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if wait := p.cfg.MinSyncInterval - time.Since(lastStart); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		lastStart = time.Now()
		if err := p.Sync(); err != nil {
			retry = min(max(2*retry, p.cfg.RetryMin), p.cfg.RetryMax)
			continue
		}
		retry = 0
	}
}

// Sync programs the desired state now. Run calls it; tests and
// benchmarks may call it directly.
func (p *Proxier) Sync() error {
	p.syncMu.Lock()
	defer p.syncMu.Unlock()
	start := p.clock.Now()

	p.mu.Lock()
	gen := p.gen
	pendingSince := p.pendingSince
	changed := make(map[string]*ServicePort, len(p.dirty))
	for k := range p.dirty {
		if sp, ok := p.desired[k]; ok {
			changed[k] = &sp
		} else {
			changed[k] = nil
		}
	}
	clear(p.dirty)
	p.mu.Unlock()

	err := p.sync(start, changed)
	end := p.clock.Now()

	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.metrics.Failures++
		for k := range changed { // try them again
			if len(p.dirty) == 0 {
				p.pendingSince = pendingSince
			}
			p.dirty[k] = true
		}
		return err
	}
	p.metrics.Syncs++
	p.metrics.LastDuration = end.Sub(start)
	p.metrics.LastSyncAt = end
	if !pendingSince.IsZero() && len(changed) > 0 {
		p.metrics.LastLatency = end.Sub(pendingSince)
	} else {
		p.metrics.LastLatency = 0
	}
	if len(p.dirty) == 0 {
		p.pendingSince = time.Time{}
	}
	if gen > p.applied {
		p.applied = gen
		close(p.appliedCh)
		p.appliedCh = make(chan struct{})
	}
	return nil
}

// sync does one sync of the changed keys. Lock syncMu.
func (p *Proxier) sync(start time.Time, changed map[string]*ServicePort) error {
	full := p.needFull || (p.cfg.FullSyncInterval > 0 && start.Sub(p.lastFullAt) >= p.cfg.FullSyncInterval)
	var restoreTime time.Duration
	if !p.started {
		// Learn which chains an earlier run left, so they get deleted.
		t0 := p.clock.Now()
		saved, err := p.runner.Save("nat")
		if err != nil {
			return p.failed(fmt.Errorf("reading existing nat chains: %w", err))
		}
		restoreTime += p.clock.Now().Sub(t0)
		for _, c := range chainsOf(saved) {
			p.natChains[c] = true
		}
		p.started = true
	}

	// Render what changed. Cache entries change only after success, so
	// keep the new ones aside.
	fresh := make(map[string]*renderedService, len(changed))
	for k, sp := range changed {
		if sp != nil {
			fresh[k] = renderService(sp, p.cfg.Config)
		}
	}
	svcs := p.mergedSorted(changed, fresh)
	var written func(*renderedService) bool
	if !full {
		written = func(rs *renderedService) bool { return fresh[rs.key] == rs }
	}
	stale, added := p.chainDiff(full, svcs, changed, fresh)
	sameTop, sameFilter := p.sameShared(changed, fresh)
	tables := assemble(svcs, written, stale, p.cfg.Config, p.lastTop, p.lastFilter, sameTop, sameFilter)
	renderTime := p.clock.Now().Sub(start)

	var cpu0 time.Duration
	cpuRunner, hasCPU := p.runner.(interface{ RestoreCPU() time.Duration })
	if hasCPU {
		cpu0 = cpuRunner.RestoreCPU()
	}
	t0 := p.clock.Now()
	if full {
		if err := ensureHooks(p.runner); err != nil {
			return p.failed(err)
		}
		if p.cfg.LocalhostNodePorts {
			if err := p.runner.SetSysctl("net/ipv4/conf/all/route_localnet", "1"); err != nil {
				return p.failed(err)
			}
		}
	}
	if full || !tables.natNoop {
		if err := p.runner.Restore("nat", tables.nat); err != nil {
			return p.failed(fmt.Errorf("syncing nat table: %w", err))
		}
	}
	if full || !slices.Equal(tables.filter, p.lastFilter) {
		if err := p.runner.Restore("filter", tables.filter); err != nil {
			return p.failed(fmt.Errorf("syncing filter table: %w", err))
		}
	}
	restoreTime += p.clock.Now().Sub(t0)

	// Success: commit the cache.
	for k, sp := range changed {
		if sp == nil {
			delete(p.cache, k)
		} else {
			p.cache[k] = fresh[k]
		}
	}
	p.sorted = svcs
	for _, c := range stale {
		delete(p.natChains, c)
	}
	for _, c := range added {
		p.natChains[c] = true
	}
	p.lastFilter = tables.filter
	p.lastTop = tables.top
	if full {
		p.needFull = false
		p.lastFullAt = start
	}
	if p.failing {
		p.log.Info("service proxy sync recovered")
		p.failing = false
	}
	nWritten := len(fresh)
	if full {
		nWritten = len(svcs)
	}
	p.mu.Lock()
	p.metrics.LastFull = full
	p.metrics.LastServices = nWritten
	p.metrics.LastBytes = len(tables.nat) + len(tables.filter)
	p.metrics.LastRender = renderTime
	p.metrics.LastRestore = restoreTime
	p.metrics.LastRestoreCPU = 0
	if hasCPU {
		p.metrics.LastRestoreCPU = cpuRunner.RestoreCPU() - cpu0
	}
	p.mu.Unlock()
	p.log.Debug("service proxy synced", zap.Bool("full", full), zap.Int("servicePorts", len(svcs)),
		zap.Int("rewritten", nWritten), zap.Int("staleChains", len(stale)),
		zap.Duration("render", renderTime), zap.Duration("restore", restoreTime))
	return nil
}

// failed records a sync failure: the next sync rewrites everything, and
// the error is logged once until a sync succeeds again. Lock syncMu.
func (p *Proxier) failed(err error) error {
	p.needFull = true
	if !p.failing {
		p.log.Error("service proxy sync failed; retrying with back-off", zap.Error(err))
		p.failing = true
	} else {
		p.log.Debug("service proxy sync failed again", zap.Error(err))
	}
	return err
}

// mergedSorted returns the rendered service ports after applying
// changes, sorted by key, reusing the previous sorted slice when no port
// was added or removed. Lock syncMu.
func (p *Proxier) mergedSorted(changed map[string]*ServicePort, fresh map[string]*renderedService) []*renderedService {
	addOrRemove := p.sorted == nil && len(p.cache) > 0
	for k, sp := range changed {
		_, had := p.cache[k]
		if had != (sp != nil) {
			addOrRemove = true
		}
	}
	if !addOrRemove && p.sorted != nil {
		out := slices.Clone(p.sorted)
		for i, rs := range out {
			if f, ok := fresh[rs.key]; ok {
				out[i] = f
			}
		}
		return out
	}
	out := make([]*renderedService, 0, len(p.cache)+len(fresh))
	for k, rs := range p.cache {
		if _, ok := changed[k]; !ok {
			out = append(out, rs)
		}
	}
	for _, rs := range fresh {
		out = append(out, rs)
	}
	sortRendered(out)
	return out
}

// chainDiff returns the per-service nat chains to delete and those the
// sync creates or keeps. A full sync compares everything with what the
// kernel holds; a partial one only looks at the changed service ports.
// Lock syncMu.
func (p *Proxier) chainDiff(full bool, svcs []*renderedService, changed map[string]*ServicePort,
	fresh map[string]*renderedService) (stale, added []string) {
	current := map[string]bool{}
	if full {
		for _, rs := range svcs {
			for _, c := range rs.chains {
				current[c.name] = true
				added = append(added, c.name)
			}
		}
		for c := range p.natChains {
			if !current[c] {
				stale = append(stale, c)
			}
		}
	} else {
		for _, rs := range fresh {
			for _, c := range rs.chains {
				current[c.name] = true
				added = append(added, c.name)
			}
		}
		for k := range changed {
			if old, ok := p.cache[k]; ok {
				for _, c := range old.chains {
					if !current[c.name] {
						stale = append(stale, c.name)
					}
				}
			}
		}
	}
	slices.Sort(stale)
	return stale, added
}

// sameShared tells whether the changed service ports contribute the same
// lines as before to the shared top chains and to the filter table.
// Lock syncMu.
func (p *Proxier) sameShared(changed map[string]*ServicePort, fresh map[string]*renderedService) (sameTop, sameFilter bool) {
	sameTop, sameFilter = true, true
	empty := &renderedService{}
	for k := range changed {
		old, ok := p.cache[k]
		if !ok {
			old = empty
		}
		nu, ok := fresh[k]
		if !ok {
			nu = empty
		}
		sameTop = sameTop && slices.Equal(old.natServices, nu.natServices) && slices.Equal(old.natNodePorts, nu.natNodePorts)
		sameFilter = sameFilter && slices.Equal(old.filterServices, nu.filterServices) && slices.Equal(old.filterExternal, nu.filterExternal)
	}
	return sameTop, sameFilter
}
