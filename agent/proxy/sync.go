package proxy

import (
	"context"
	"fmt"
	"slices"
	"time"

	"go.uber.org/zap"
)

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

	var err error
	if p.nft != nil {
		err = p.syncNFT(start, changed)
	} else {
		err = p.sync(start, changed)
	}
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

	cpu := startCPU(p.runner)
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
	nWritten := len(fresh)
	if full {
		nWritten = len(svcs)
	}
	p.succeeded(start, full, nWritten, len(tables.nat)+len(tables.filter), 0, renderTime, restoreTime, cpu())
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

// syncNFT is sync for the nftables mode: one knftables transaction
// (one `nft -f`) with the changed elements (or everything, on a full
// sync). Lock syncMu.
func (p *Proxier) syncNFT(start time.Time, changed map[string]*ServicePort) error {
	full := p.needFull || (p.cfg.FullSyncInterval > 0 && start.Sub(p.lastFullAt) >= p.cfg.FullSyncInterval)
	st := p.nft
	if full && p.cfg.LocalhostNodePorts {
		if err := st.runner.SetSysctl("net/ipv4/conf/all/route_localnet", "1"); err != nil {
			return p.failed(err)
		}
	}
	tx := st.runner.NewTransaction()
	ops, rewritten := st.plan(tx, changed, full)
	renderTime := p.clock.Now().Sub(start)

	cpu := startCPU(st.runner)
	t0 := p.clock.Now()
	if ops > 0 {
		// Sync has no context; a transaction is one bounded nft run.
		if err := st.runner.Run(context.Background(), tx); err != nil {
			// The transaction left the kernel as it was, but the model
			// already moved: rebuild the table from scratch next time.
			st.fresh = true
			return p.failed(fmt.Errorf("syncing nftables table ip %s: %w", NFTTable, err))
		}
	}
	restoreTime := p.clock.Now().Sub(t0)
	p.succeeded(start, full, rewritten, 0, ops, renderTime, restoreTime, cpu())
	p.log.Debug("service proxy synced (nftables)", zap.Bool("full", full), zap.Int("servicePorts", len(st.ports)),
		zap.Int("rewritten", rewritten), zap.Int("operations", ops),
		zap.Duration("render", renderTime), zap.Duration("apply", restoreTime))
	return nil
}

// CleanupNFT removes the nftables mode's table (strom-agent --cleanup).
func CleanupNFT(r NFTRunner) error { return nftDeleteTable(r) }

// startCPU returns a function that tells the CPU time the runner's
// commands used since startCPU was called (0 when it does not report it).
func startCPU(runner any) func() time.Duration {
	r, ok := runner.(interface{ RestoreCPU() time.Duration })
	if !ok {
		return func() time.Duration { return 0 }
	}
	cpu0 := r.RestoreCPU()
	return func() time.Duration { return r.RestoreCPU() - cpu0 }
}

// succeeded records a successful sync's bookkeeping and metrics. Lock
// syncMu.
func (p *Proxier) succeeded(start time.Time, full bool, rewritten, bytes, ops int, render, restore, cpu time.Duration) {
	if full {
		p.needFull = false
		p.lastFullAt = start
	}
	if p.failing {
		p.log.Info("service proxy sync recovered")
		p.failing = false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.metrics.LastFull = full
	p.metrics.LastServices = rewritten
	p.metrics.LastBytes = bytes
	p.metrics.LastOps = ops
	p.metrics.LastRender = render
	p.metrics.LastRestore = restore
	p.metrics.LastRestoreCPU = cpu
}
