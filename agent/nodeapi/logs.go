package nodeapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events/api"
)

// RunStates is what a followed log needs to end with its container run,
// as kubelet's does; a Pods without it follows until the client leaves.
type RunStates interface {
	// LogRunning reports whether the run writing the log at path runs.
	LogRunning(ctx context.Context, namespace, pod, container, path string) (bool, error)
}

// logPoll is how often a followed log looks for new output.
const logPoll = 200 * time.Millisecond

func (s *server) logs(ctx context.Context, m *nats.Msg) {
	var req api.LogsRequest
	if err := json.Unmarshal(m.Data, &req); err != nil || req.Inbox == "" {
		respond(m, &api.Chunk{Error: "malformed logs request"})
		return
	}
	path, err := s.pods.ContainerLogPath(req.Namespace, req.Pod, req.Container, req.Previous)
	if err != nil {
		respond(m, &api.Chunk{Error: err.Error()})
		return
	}
	f, err := os.Open(path)
	if err != nil {
		respond(m, &api.Chunk{Error: fmt.Sprintf("reading log of %s/%s: %v", req.Pod, req.Container, err)})
		return
	}
	defer f.Close()
	lc, err := newLogCopy(f, path, &req, time.Now())
	if err != nil {
		respond(m, &api.Chunk{Error: fmt.Sprintf("reading log of %s/%s: %v", req.Pod, req.Container, err)})
		return
	}
	defer lc.close()
	respond(m, &api.Chunk{})
	w := &api.ChunkWriter{NC: s.nc, Inbox: req.Inbox, Stream: "stdout"}
	var ended func() bool
	if rs, ok := s.pods.(RunStates); ok && req.Follow {
		ended = func() bool {
			running, err := rs.LogRunning(ctx, req.Namespace, req.Pod, req.Container, path)
			return err == nil && !running
		}
	}
	err = lc.run(ctx, w, req.Follow, ended)
	if err != nil && !errors.Is(err, errLimitReached) {
		s.log.Debug("log stream ended", zap.Error(err))
		return
	}
	_ = api.Send(s.nc, req.Inbox, &api.Chunk{EOF: true})
}

// errLimitReached ends a log at its LimitBytes.
var errLimitReached = errors.New("limitBytes reached")

// logCopy copies one log file with Kubernetes' PodLogOptions applied:
// tailLines, sinceSeconds/sinceTime and timestamps work on lines (the
// times come from the log's times file, runtime.OpenLogTimes), limitBytes
// on the bytes sent.
type logCopy struct {
	f     *os.File
	off   int64 // the file offset of the next byte read
	times *runtime.LogTimes
	since time.Time // zero: from the start
	stamp bool
	limit int64 // bytes left to send; <0: no limit

	atLineStart bool
	skipping    bool // the current line is before since
}

// newLogCopy positions f where the request starts reading (its tail) and
// opens the log's times when the request needs them. now is the node's
// clock, the base of SinceSeconds.
func newLogCopy(f *os.File, path string, req *api.LogsRequest, now time.Time) (*logCopy, error) {
	lc := &logCopy{f: f, stamp: req.Timestamps, limit: -1, atLineStart: true}
	if req.LimitBytes > 0 {
		lc.limit = req.LimitBytes
	}
	switch {
	case req.SinceTime != nil:
		lc.since = *req.SinceTime
	case req.SinceSeconds > 0:
		lc.since = now.Add(-time.Duration(req.SinceSeconds) * time.Second)
	}
	tail := int64(-1)
	switch {
	case req.TailLines != nil:
		if *req.TailLines < 0 {
			return nil, fmt.Errorf("tailLines %d: must be greater than or equal to 0", *req.TailLines)
		}
		tail = *req.TailLines
	case req.Tail > 0:
		tail = int64(req.Tail)
	}
	if tail >= 0 {
		if err := seekTail(f, tail); err != nil {
			return nil, err
		}
	}
	off, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	lc.off = off
	if lc.stamp || !lc.since.IsZero() {
		t, err := runtime.OpenLogTimes(path)
		if err != nil {
			return nil, err
		}
		lc.times = t
	}
	return lc, nil
}

func (lc *logCopy) close() {
	if lc.times != nil {
		_ = lc.times.Close()
	}
}

// run copies the log to w; with follow it keeps reading as the file grows
// until the run writing it has ended (ended, when not nil, says so), the
// receiver goes away or ctx ends. A quiet follow sends keepalives.
func (lc *logCopy) run(ctx context.Context, w io.Writer, follow bool, ended func() bool) error {
	buf := make([]byte, 32<<10)
	idle := time.Duration(0)
	sinceCheck := time.Duration(0)
	draining := false // the run has ended: read what is left, then stop
	for {
		n, err := lc.f.Read(buf)
		if n > 0 {
			idle = 0
			if werr := lc.write(w, buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			if !follow || draining {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(logPoll):
			}
			idle += logPoll
			sinceCheck += logPoll
			if ended != nil && sinceCheck >= time.Second {
				sinceCheck = 0
				// The last bytes may land just after the run ended: one
				// more read after seeing it ended takes them.
				draining = ended()
			}
			if idle >= api.KeepAlive {
				idle = 0
				if _, werr := w.Write(nil); werr != nil {
					return werr
				}
			}
			continue
		}
		if err != nil {
			return err
		}
	}
}

// write sends p, the bytes at lc.off, with the options applied.
func (lc *logCopy) write(w io.Writer, p []byte) error {
	base := lc.off
	lc.off += int64(len(p))
	if lc.times == nil {
		return lc.send(w, p)
	}
	if err := lc.times.Refresh(); err != nil {
		return err
	}
	// Line by line: each line's time is that of its first byte.
	var out bytes.Buffer
	for i := 0; i < len(p); {
		if lc.atLineStart {
			at := lc.times.At(base + int64(i))
			lc.skipping = !lc.since.IsZero() && at.Before(lc.since)
			if !lc.skipping && lc.stamp {
				out.WriteString(at.UTC().Format(time.RFC3339Nano))
				out.WriteByte(' ')
			}
		}
		end := bytes.IndexByte(p[i:], '\n')
		if end < 0 {
			end = len(p)
			lc.atLineStart = false
		} else {
			end += i + 1
			lc.atLineStart = true
		}
		if !lc.skipping {
			out.Write(p[i:end])
		}
		i = end
	}
	return lc.send(w, out.Bytes())
}

// send writes p, cut at the byte limit.
func (lc *logCopy) send(w io.Writer, p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if lc.limit >= 0 && int64(len(p)) >= lc.limit {
		p = p[:lc.limit]
		lc.limit = 0
		if len(p) > 0 {
			if _, err := w.Write(p); err != nil {
				return err
			}
		}
		return errLimitReached
	}
	if lc.limit >= 0 {
		lc.limit -= int64(len(p))
	}
	_, err := w.Write(p)
	return err
}

// seekTail positions f at the start of its last n lines (n = 0: at the
// end).
func seekTail(f *os.File, n int64) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if n == 0 {
		_, err := f.Seek(size, io.SeekStart)
		return err
	}
	const block = 64 << 10
	lines := int64(0)
	for off := size; off > 0; {
		start := max(off-block, 0)
		buf := make([]byte, off-start)
		if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
			return err
		}
		for i := len(buf) - 1; i >= 0; i-- {
			if buf[i] == '\n' && start+int64(i) != size-1 {
				lines++
				if lines == n {
					_, err := f.Seek(start+int64(i)+1, io.SeekStart)
					return err
				}
			}
		}
		off = start
	}
	_, err = f.Seek(0, io.SeekStart)
	return err
}
