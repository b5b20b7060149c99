package runtime

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLogTimesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "0.log")
	if err := os.WriteFile(path, []byte("old\n"), 0o640); err != nil { // a log from before times
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := stampedLogFile(f, path)
	defer w.times.Close()
	base := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	now := base
	w.now = func() time.Time { return now }
	write := func(s string) {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	write("a\n")                          // offset 4, at base
	now = now.Add(500 * time.Microsecond) // under a millisecond: no record
	write("b\n")                          // offset 6
	now = now.Add(2 * time.Second)
	write("c\nd") // offset 8
	lt, err := OpenLogTimes(path)
	if err != nil {
		t.Fatal(err)
	}
	defer lt.Close()
	if len(lt.recs) != 2 {
		t.Fatalf("records %+v, want 2", lt.recs)
	}
	for off, want := range map[int64]time.Time{4: base, 6: base, 8: base.Add(2*time.Second + 500*time.Microsecond), 10: base.Add(2*time.Second + 500*time.Microsecond)} {
		if got := lt.At(off); !got.Equal(want) {
			t.Errorf("At(%d) = %v, want %v", off, got, want)
		}
	}
	// Before the first record: an upper bound, the first record's time.
	if got := lt.At(0); !got.Equal(base) {
		t.Errorf("At(0) = %v, want %v", got, base)
	}
	// A followed log: Refresh reads records written since.
	now = now.Add(time.Second)
	write("\ne\n")
	if err := lt.Refresh(); err != nil {
		t.Fatal(err)
	}
	if got := lt.At(11); !got.Equal(now) {
		t.Errorf("after Refresh, At(11) = %v, want %v", got, now)
	}
	// No times file at all: the log's modification time.
	other := filepath.Join(dir, "1.log")
	if err := os.WriteFile(other, []byte("x\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	mt := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(other, mt, mt); err != nil {
		t.Fatal(err)
	}
	nt, err := OpenLogTimes(other)
	if err != nil {
		t.Fatal(err)
	}
	if got := nt.At(0); !got.Equal(mt) {
		t.Errorf("no times file: At(0) = %v, want the mtime %v", got, mt)
	}
}
