// Package nodeapi serves the node agent's own API (logs, exec, images) on
// the node's subjects; its wire types and client side are in events/api.
package nodeapi

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events/api"
)

// Pods is what the node API needs from the pod manager.
type Pods interface {
	ContainerLogPath(namespace, pod, container string, previous bool) (string, error)
	Exec(ctx context.Context, namespace, pod, container string, cfg runtime.ExecConfig) (int, error)
}

// Serve answers logs and exec requests for node until ctx ends.
func Serve(ctx context.Context, nc *nats.Conn, node string, pods Pods, log *zap.Logger) error {
	s := &server{nc: nc, pods: pods, log: log}
	ls, err := nc.Subscribe(api.LogsSubject(node), func(m *nats.Msg) { go s.logs(ctx, m) })
	if err != nil {
		return err
	}
	es, err := nc.Subscribe(api.ExecSubject(node), func(m *nats.Msg) { go s.exec(ctx, m) })
	if err != nil {
		_ = ls.Unsubscribe()
		return err
	}
	go func() {
		<-ctx.Done()
		_ = ls.Unsubscribe()
		_ = es.Unsubscribe()
	}()
	return nil
}

type server struct {
	nc   *nats.Conn
	pods Pods
	log  *zap.Logger
}

func respond(m *nats.Msg, c *api.Chunk) {
	data, _ := json.Marshal(c)
	_ = m.Respond(data)
}

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
	respond(m, &api.Chunk{})
	w := &api.ChunkWriter{NC: s.nc, Inbox: req.Inbox, Stream: "stdout"}
	if req.Tail > 0 {
		if err := seekTail(f, req.Tail); err != nil {
			_ = api.Send(s.nc, req.Inbox, &api.Chunk{Error: err.Error()})
			return
		}
	}
	if err := copyLog(ctx, w, f, req.Follow); err != nil {
		s.log.Debug("log stream ended", zap.Error(err))
		return
	}
	_ = api.Send(s.nc, req.Inbox, &api.Chunk{EOF: true})
}

// copyLog copies the file; with follow it keeps reading as it grows until
// the receiver goes away or ctx ends.
func copyLog(ctx context.Context, w io.Writer, f *os.File, follow bool) error {
	buf := make([]byte, 32<<10)
	idle := time.Duration(0)
	for {
		n, err := f.Read(buf)
		if n > 0 {
			idle = 0
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			if !follow {
				return nil
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(200 * time.Millisecond):
			}
			if idle += 200 * time.Millisecond; idle >= api.KeepAlive {
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

// seekTail positions f at the start of its last n lines.
func seekTail(f *os.File, n int) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	const block = 64 << 10
	lines := 0
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

func (s *server) exec(ctx context.Context, m *nats.Msg) {
	var req api.ExecRequest
	if err := json.Unmarshal(m.Data, &req); err != nil || req.Inbox == "" || len(req.Command) == 0 {
		respond(m, &api.Chunk{Error: "malformed exec request: a command is required"})
		return
	}
	cfg := runtime.ExecConfig{
		Cmd:    req.Command,
		Stdout: &api.ChunkWriter{NC: s.nc, Inbox: req.Inbox, Stream: "stdout"},
		Stderr: &api.ChunkWriter{NC: s.nc, Inbox: req.Inbox, Stream: "stderr"},
		TTY:    req.TTY,
	}
	first := &api.Chunk{}
	if req.Stdin {
		subject, pr, stop, err := stdinPipe(s.nc)
		if err != nil {
			respond(m, &api.Chunk{Error: err.Error()})
			return
		}
		defer stop()
		first.StdinSubject = subject
		cfg.Stdin = pr
	}
	respond(m, first)
	stop := make(chan struct{})
	go func() { // keepalives while a quiet command runs
		t := time.NewTicker(api.KeepAlive)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = api.Send(s.nc, req.Inbox, &api.Chunk{})
			}
		}
	}()
	code, err := s.pods.Exec(ctx, req.Namespace, req.Pod, req.Container, cfg)
	close(stop)
	if err != nil {
		_ = api.Send(s.nc, req.Inbox, &api.Chunk{Error: err.Error()})
		return
	}
	_ = api.Send(s.nc, req.Inbox, &api.Chunk{EOF: true, ExitCode: code})
}

// stdinPipe subscribes a fresh subject whose acknowledged chunks come out
// of the returned reader (EOF on the last chunk); stop unsubscribes.
func stdinPipe(nc *nats.Conn) (string, *io.PipeReader, func(), error) {
	pr, pw := io.Pipe()
	subject := "strom.stdin." + nuid.Next()
	sub, err := nc.Subscribe(subject, func(sm *nats.Msg) {
		var c api.Chunk
		if json.Unmarshal(sm.Data, &c) == nil {
			if len(c.Data) > 0 {
				_, _ = pw.Write(c.Data)
			}
			if c.EOF {
				_ = pw.Close()
			}
		}
		_ = sm.Respond(nil)
	})
	if err != nil {
		return "", nil, nil, err
	}
	return subject, pr, func() { _ = sub.Unsubscribe(); _ = pw.Close() }, nil
}
