package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Fsync modes (--fsync).
const (
	// FsyncGroup: an acknowledged write is on disk; concurrent writes
	// share one fsync of the embedded server's message blocks (group
	// commit). The default.
	FsyncGroup = "group"
	// FsyncAlways: the embedded server fsyncs after every message
	// (JetStream's sync_interval: always). Durable, one fsync per write.
	FsyncAlways = "always"
	// FsyncInterval: the embedded server syncs in the background every
	// two minutes; an acknowledged write survives a crash of stromd but
	// not a power loss. The explicit opt-out.
	FsyncInterval = "interval"
)

// FsyncModes lists the accepted --fsync values.
var FsyncModes = []string{FsyncGroup, FsyncAlways, FsyncInterval}

// ParseFsync checks a --fsync value; "" is the default, group.
func ParseFsync(v string) (string, error) {
	switch v {
	case "":
		return FsyncGroup, nil
	case FsyncGroup, FsyncAlways, FsyncInterval:
		return v, nil
	}
	return "", fmt.Errorf("--fsync %q: must be one of %s", v, strings.Join(FsyncModes, ", "))
}

// fsyncMode is the effective --fsync (already checked by ParseFsync).
func (c *Config) fsyncMode() string {
	if c.Fsync == "" && c.FsyncAlways {
		return FsyncAlways
	}
	if c.Fsync == "" {
		return FsyncGroup
	}
	return c.Fsync
}

// setUpDurability starts group commit over the embedded server's event
// stream, or says where durability comes from instead.
func (d *Stromd) setUpDurability() error {
	mode := d.cfg.fsyncMode()
	if d.ns == nil {
		d.log.Info("acknowledged writes are as durable as the NATS servers' sync setting (sync_interval: always makes them power-loss safe); --fsync applies to the embedded server only", zap.String("fsync", mode))
		return nil
	}
	if mode != FsyncGroup {
		if mode == FsyncInterval {
			d.log.Warn("--fsync=interval: acknowledged writes survive a crash of stromd but not a power loss until the background sync (every 2 minutes)")
		}
		return nil
	}
	gs, err := newGroupSync(d.ns.StoreDir())
	if err != nil {
		return fmt.Errorf("--fsync=group: %w", err)
	}
	d.groupSync = gs
	return nil
}

// groupSync is stromd's group commit over the embedded JetStream file
// store. The store writes every message into its stream's current block
// file before it acknowledges the publish (a single-replica stream flushes
// in place), so once the writer holds the acknowledgement the bytes are in
// the kernel's page cache; Sync then fdatasyncs the blocks.
//
// Writers that call Sync while a round is running wait for the next one,
// which starts as soon as the current ends and covers all of them: under
// load one fsync serves as many writes as arrived during the previous
// fsync, so durability costs latency (about one fsync) rather than
// throughput.
//
// A round covers every stream of the store, not only the event log: the
// write path's admissions also write (the Service allocator's bucket),
// and those writes must be as durable as the events they precede. Blocks
// are written strictly in order and a block takes no more writes once the
// next one exists; so per stream a round syncs the blocks from the newest
// it saw before (which may have grown) up to the newest now, and the
// directory when a block appeared.
type groupSync struct {
	storeDir string // the server's StoreDir
	fsync    func(f *os.File) error

	mu      sync.Mutex
	waiting []chan error
	running bool

	roundMu sync.Mutex // held by a round and by Close
	streams map[string]*blockState
}

// blockState is what a round knows about one stream's msgs directory.
type blockState struct {
	from  int // lowest block index that may still be growing
	known int // highest block index seen
	files map[int]*os.File
	// synced is each open block's size at its last fdatasync: an
	// unchanged block (an idle stream) needs none.
	synced map[int]int64
}

// newGroupSync syncs the streams in the store under storeDir (the
// server's StoreDir: <storeDir>/<account>/streams/<stream>/msgs). It
// fsyncs the whole store once first, so that what the server wrote
// without syncing before (stream metadata, the blocks of an earlier run
// under --fsync=interval) is durable before the first acknowledgement.
func newGroupSync(storeDir string) (*groupSync, error) {
	g := &groupSync{storeDir: storeDir, fsync: fdatasync, streams: map[string]*blockState{}}
	if err := syncTree(storeDir); err != nil {
		return nil, err
	}
	return g, nil
}

func fdatasync(f *os.File) error { return unix.Fdatasync(int(f.Fd())) }

// syncTree fsyncs every file and directory under root.
func syncTree(root string) error {
	return filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil // removed meanwhile
			}
			return err
		}
		if !e.IsDir() && !e.Type().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("syncing the NATS store: %w", err)
		}
		defer f.Close()
		if err := f.Sync(); err != nil {
			return fmt.Errorf("syncing the NATS store: %s: %w", p, err)
		}
		return nil
	})
}

// Sync returns once every append acknowledged before the call is on
// stable storage.
func (g *groupSync) Sync(ctx context.Context) error {
	ch := make(chan error, 1)
	g.mu.Lock()
	g.waiting = append(g.waiting, ch)
	if !g.running {
		g.running = true
		go g.rounds()
	}
	g.mu.Unlock()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// rounds runs sync rounds while writers wait, then exits.
func (g *groupSync) rounds() {
	for {
		g.mu.Lock()
		batch := g.waiting
		g.waiting = nil
		if len(batch) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.roundMu.Lock()
		err := g.round()
		g.roundMu.Unlock()
		for _, ch := range batch {
			ch <- err
		}
	}
}

// round fdatasyncs, in every stream, the blocks that may hold unsynced
// appends.
func (g *groupSync) round() error {
	dirs, err := filepath.Glob(filepath.Join(g.storeDir, "*", "streams", "*", "msgs"))
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		st := g.streams[dir]
		if st == nil {
			st = &blockState{files: map[int]*os.File{}, synced: map[int]int64{}}
			g.streams[dir] = st
		}
		if err := g.syncStream(dir, st); err != nil {
			return err
		}
	}
	return nil
}

func (g *groupSync) syncStream(dir string, st *blockState) error {
	blocks, err := blockIndexes(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil // the stream was deleted
	}
	if err != nil {
		return err
	}
	newBlock := false
	for _, i := range blocks {
		if i < st.from {
			continue
		}
		path := filepath.Join(dir, strconv.Itoa(i)+".blk")
		fi, err := os.Stat(path)
		if errors.Is(err, os.ErrNotExist) {
			continue // removed by retention meanwhile
		}
		if err != nil {
			return fmt.Errorf("syncing message block: %w", err)
		}
		f, ok := st.files[i]
		if ok {
			// The server rewrites a block by renaming a new file over it
			// (compaction): follow the name, not the old file.
			if cur, err := f.Stat(); err != nil || !os.SameFile(cur, fi) {
				f.Close()
				delete(st.files, i)
				delete(st.synced, i)
				ok = false
			}
		}
		if !ok {
			f, err = os.Open(path)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("opening message block: %w", err)
			}
			st.files[i] = f
		}
		if size, ok := st.synced[i]; !ok || size != fi.Size() {
			if err := g.fsync(f); err != nil {
				return fmt.Errorf("syncing message block %s: %w", f.Name(), err)
			}
			st.synced[i] = fi.Size()
		}
		if i > st.known {
			newBlock = true
			st.known = i
		}
	}
	if newBlock {
		d, err := os.Open(dir)
		if err != nil {
			return fmt.Errorf("opening message block directory: %w", err)
		}
		err = g.fsync(d)
		d.Close()
		if err != nil {
			return fmt.Errorf("syncing message block directory %s: %w", dir, err)
		}
	}
	// Blocks below the newest take no more appends: done with them.
	if n := len(blocks); n > 0 {
		last := blocks[n-1]
		for i, f := range st.files {
			if i < last {
				f.Close()
				delete(st.files, i)
				delete(st.synced, i)
			}
		}
		st.from = last
	}
	return nil
}

// blockIndexes lists the block indexes in a msgs directory, ascending.
func blockIndexes(dir string) ([]int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing message blocks: %w", err)
	}
	var out []int
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), ".blk")
		if !ok {
			continue
		}
		if i, err := strconv.Atoi(n); err == nil {
			out = append(out, i)
		}
	}
	sort.Ints(out)
	return out, nil
}

// Close releases the open block files.
func (g *groupSync) Close() {
	g.roundMu.Lock()
	defer g.roundMu.Unlock()
	for _, st := range g.streams {
		for i, f := range st.files {
			f.Close()
			delete(st.files, i)
		}
	}
}
