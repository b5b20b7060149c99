package app

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncLog records the fsyncs a groupSync makes.
type syncLog struct {
	mu    sync.Mutex
	calls []syncCall
	delay time.Duration
	err   error
}

type syncCall struct {
	name       string
	start, end time.Time
}

func (l *syncLog) fsync(f *os.File) error {
	start := time.Now()
	time.Sleep(l.delay)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, syncCall{name: filepath.Base(f.Name()), start: start, end: time.Now()})
	return l.err
}

func (l *syncLog) names() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, c := range l.calls {
		out = append(out, c.name)
	}
	l.calls = nil
	return out
}

// grow appends to a block, as a publish would.
func grow(t *testing.T, path string) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if _, err := f.Write([]byte("m")); err != nil {
		t.Error(err)
	}
}

func newTestGroupSync(t *testing.T, l *syncLog, blocks ...string) (*groupSync, string) {
	t.Helper()
	store := t.TempDir()
	dir := filepath.Join(store, "$G", "streams", "S", "msgs")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if err := os.WriteFile(filepath.Join(dir, b), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g := &groupSync{storeDir: store, fsync: l.fsync, streams: map[string]*blockState{}}
	t.Cleanup(g.Close)
	return g, dir
}

// Concurrent writers share fsyncs, and each returns only after an fsync
// that began after it asked.
func TestGroupSyncSharesFsyncsAndCoversEveryCaller(t *testing.T) {
	l := &syncLog{delay: 3 * time.Millisecond}
	g, dir := newTestGroupSync(t, l, "1.blk")
	const writers = 64
	type span struct{ call, ret time.Time }
	spans := make([]span, writers)
	var wg sync.WaitGroup
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 5; j++ {
				grow(t, filepath.Join(dir, "1.blk"))
				call := time.Now()
				if err := g.Sync(context.Background()); err != nil {
					t.Error(err)
					return
				}
				spans[i] = span{call, time.Now()}
			}
		}(i)
	}
	wg.Wait()
	l.mu.Lock()
	calls := append([]syncCall(nil), l.calls...)
	l.mu.Unlock()
	blockSyncs := 0
	for _, c := range calls {
		if c.name == "1.blk" {
			blockSyncs++
		}
	}
	if blockSyncs == 0 || blockSyncs >= writers*5/2 {
		t.Fatalf("%d block fsyncs for %d Sync calls: want some, and far fewer than one per call", blockSyncs, writers*5)
	}
	for i, s := range spans {
		covered := false
		for _, c := range calls {
			if c.name == "1.blk" && !c.start.Before(s.call) && !c.end.After(s.ret) {
				covered = true
				break
			}
		}
		if !covered {
			t.Fatalf("writer %d: its last Sync (%v–%v) returned without an fsync that began after the call", i, s.call, s.ret)
		}
	}
}

// A new block is synced with the one before it (which may have grown
// until the new one appeared) and the directory; then only the newest.
func TestGroupSyncFollowsNewBlocks(t *testing.T) {
	l := &syncLog{}
	g, dir := newTestGroupSync(t, l, "1.blk", "index.db")
	ctx := context.Background()
	if err := g.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.names(); len(got) != 2 || got[0] != "1.blk" || got[1] != filepath.Base(dir) {
		t.Fatalf("first round synced %v, want [1.blk %s]", got, filepath.Base(dir))
	}
	grow(t, filepath.Join(dir, "1.blk")) // the last appends to block 1, then block 2
	if err := os.WriteFile(filepath.Join(dir, "2.blk"), []byte("y"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := g.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	got := l.names()
	if len(got) != 3 || got[0] != "1.blk" || got[1] != "2.blk" || got[2] != filepath.Base(dir) {
		t.Fatalf("after 2.blk appeared synced %v, want [1.blk 2.blk %s]", got, filepath.Base(dir))
	}
	grow(t, filepath.Join(dir, "2.blk"))
	if err := g.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.names(); len(got) != 1 || got[0] != "2.blk" {
		t.Fatalf("steady state synced %v, want [2.blk]", got)
	}
	// Nothing appended: nothing to sync.
	if err := g.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.names(); len(got) != 0 {
		t.Fatalf("an idle stream was synced again: %v", got)
	}
	// A block rewritten under its name (compaction) is followed.
	if err := os.WriteFile(filepath.Join(dir, "2.blk.tmp"), []byte("compacted"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "2.blk.tmp"), filepath.Join(dir, "2.blk")); err != nil {
		t.Fatal(err)
	}
	if err := g.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.names(); len(got) != 1 || got[0] != "2.blk" {
		t.Fatalf("after a rewrite synced %v, want [2.blk]", got)
	}
	if _, open := g.streams[dir].files[1]; open {
		t.Fatal("block 1 is still held open after block 2 took over")
	}
}

// A failed fsync fails every write waiting on it.
func TestGroupSyncReportsFsyncErrors(t *testing.T) {
	l := &syncLog{err: errors.New("input/output error")}
	g, _ := newTestGroupSync(t, l, "1.blk")
	err := g.Sync(context.Background())
	if err == nil || !strings.Contains(err.Error(), "input/output error") || !strings.Contains(err.Error(), "1.blk") {
		t.Fatalf("Sync error = %v, want the fsync error naming the block", err)
	}
}

func TestParseFsync(t *testing.T) {
	for in, want := range map[string]string{"": FsyncGroup, "group": FsyncGroup, "always": FsyncAlways, "interval": FsyncInterval} {
		got, err := ParseFsync(in)
		if err != nil || got != want {
			t.Errorf("ParseFsync(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseFsync("sometimes")
	if err == nil || !strings.Contains(err.Error(), `--fsync "sometimes"`) || !strings.Contains(err.Error(), "group, always, interval") {
		t.Fatalf("ParseFsync(sometimes) error = %v", err)
	}
	if m := (&Config{FsyncAlways: true}).fsyncMode(); m != FsyncAlways {
		t.Fatalf("--fsync-always alone: mode %q", m)
	}
}
