package nodeapi

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events/api"
)

// writeLog writes a log and its times file: each part arrives at its
// time.
func writeLog(t *testing.T, parts []string, at []time.Time) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "0.log")
	var log, times bytes.Buffer
	for i, p := range parts {
		var rec [16]byte
		binary.LittleEndian.PutUint64(rec[:8], uint64(log.Len()))
		binary.LittleEndian.PutUint64(rec[8:], uint64(at[i].UnixNano()))
		times.Write(rec[:])
		log.WriteString(p)
	}
	if err := os.WriteFile(path, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(runtime.LogTimesPath(path), times.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func copyLog(t *testing.T, path string, req *api.LogsRequest, now time.Time) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lc, err := newLogCopy(f, path, req, now)
	if err != nil {
		t.Fatal(err)
	}
	defer lc.close()
	var out bytes.Buffer
	if err := lc.run(context.Background(), &out, false, nil); err != nil && err != errLimitReached {
		t.Fatal(err)
	}
	return out.String()
}

func TestLogOptions(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	// "two" is written in two parts, a second apart: its time is its
	// first byte's.
	path := writeLog(t, []string{"one\ntw", "o\nthree\n", "four\n"}, []time.Time{t0, t0.Add(time.Second), t0.Add(2 * time.Second)})
	n := func(v int64) *int64 { return &v }
	since := t0.Add(time.Second)
	for _, tc := range []struct {
		name string
		req  api.LogsRequest
		want string
	}{
		{"all", api.LogsRequest{}, "one\ntwo\nthree\nfour\n"},
		{"tail (old field)", api.LogsRequest{Tail: 1}, "four\n"},
		{"tailLines", api.LogsRequest{TailLines: n(2)}, "three\nfour\n"},
		{"tailLines=0", api.LogsRequest{TailLines: n(0)}, ""},
		{"limitBytes", api.LogsRequest{LimitBytes: 6}, "one\ntw"},
		{"timestamps", api.LogsRequest{Timestamps: true, TailLines: n(3)},
			"2026-12-04T10:00:00Z two\n2026-12-04T10:00:01Z three\n2026-12-04T10:00:02Z four\n"},
		{"sinceTime", api.LogsRequest{SinceTime: &since}, "three\nfour\n"},
		{"sinceSeconds", api.LogsRequest{SinceSeconds: 1}, "four\n"},
		{"timestamps and limitBytes", api.LogsRequest{Timestamps: true, TailLines: n(1), LimitBytes: 10}, "2026-12-04"},
	} {
		now := t0.Add(3 * time.Second) // sinceSeconds=1: from t0+2s
		if got := copyLog(t, path, &tc.req, now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestLogFollowEndsWithTheRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lc, err := newLogCopy(f, path, &api.LogsRequest{Follow: true}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ended := false
	done := make(chan error, 1)
	go func() {
		done <- lc.run(context.Background(), &out, true, func() bool {
			// The run ends once it wrote "b": what it wrote last is
			// still read.
			if !ended {
				ended = true
				w, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
				w.WriteString("b\n")
				w.Close()
			}
			return true
		})
	}()
	select {
	case err := <-done:
		if err != nil || out.String() != "a\nb\n" {
			t.Errorf("follow: %q %v", out.String(), err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow did not end with the run")
	}
}
