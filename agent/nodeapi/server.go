// Package nodeapi serves the node agent's own API (logs, exec, port
// forwarding, images) on the node's subjects; its wire types and client
// side are in events/api.
package nodeapi

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events/api"
)

// Pods is what the node API needs from the pod manager. It may also be a
// RunStates (followed logs end with their run) and a PodNetworks (port
// forwarding is served).
type Pods interface {
	ContainerLogPath(namespace, pod, container string, previous bool) (string, error)
	Exec(ctx context.Context, namespace, pod, container string, cfg runtime.ExecConfig) (int, error)
}

// Serve answers logs, exec and (when pods is a PodNetworks) port-forward
// requests for node until ctx ends.
func Serve(ctx context.Context, nc *nats.Conn, node string, pods Pods, log *zap.Logger) error {
	s := &server{nc: nc, node: node, pods: pods, log: log}
	handlers := map[string]func(context.Context, *nats.Msg){
		api.LogsSubject(node): s.logs,
		api.ExecSubject(node): s.exec,
	}
	if pn, ok := pods.(PodNetworks); ok {
		handlers[api.PortForwardSubject(node)] = func(ctx context.Context, m *nats.Msg) { s.portForward(ctx, pn, m) }
	}
	var subs []*nats.Subscription
	for subject, h := range handlers {
		sub, err := nc.Subscribe(subject, func(m *nats.Msg) { go h(ctx, m) })
		if err != nil {
			for _, sub := range subs {
				_ = sub.Unsubscribe()
			}
			return err
		}
		subs = append(subs, sub)
	}
	go func() {
		<-ctx.Done()
		for _, sub := range subs {
			_ = sub.Unsubscribe()
		}
	}()
	return nil
}

type server struct {
	nc   *nats.Conn
	node string
	pods Pods
	log  *zap.Logger
}

func respond(m *nats.Msg, c *api.Chunk) {
	data, _ := json.Marshal(c)
	_ = m.Respond(data)
}

func (s *server) exec(ctx context.Context, m *nats.Msg) {
	var req api.ExecRequest
	if err := json.Unmarshal(m.Data, &req); err != nil || req.Inbox == "" || len(req.Command) == 0 {
		respond(m, &api.Chunk{Error: "malformed exec request: a command is required"})
		return
	}
	// The command ends when the client goes away (a chunk finds no
	// receiver): an abandoned interactive shell does not live on.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := &receiver{nc: s.nc, inbox: req.Inbox, gone: cancel}
	cfg := runtime.ExecConfig{
		Cmd:    req.Command,
		Stdout: out.writer("stdout"),
		Stderr: out.writer("stderr"),
		TTY:    req.TTY,
	}
	first := &api.Chunk{}
	if req.Stdin || req.Resize {
		var onResize func(api.TerminalSize)
		if req.Resize && req.TTY {
			sizes := make(chan runtime.TerminalSize, 1)
			cfg.Resize = sizes
			onResize = func(sz api.TerminalSize) { latest(sizes, runtime.TerminalSize{Width: sz.Width, Height: sz.Height}) }
		}
		subject, pr, stop, err := stdinPipe(s.nc, s.node, onResize)
		if err != nil {
			respond(m, &api.Chunk{Error: err.Error()})
			return
		}
		defer stop()
		first.StdinSubject = subject
		if req.Stdin {
			cfg.Stdin = pr
		}
	}
	respond(m, first)
	stop := keepAlive(out)
	code, err := s.pods.Exec(ctx, req.Namespace, req.Pod, req.Container, cfg)
	stop()
	if err != nil {
		_ = out.send(&api.Chunk{Error: err.Error()})
		return
	}
	_ = out.send(&api.Chunk{EOF: true, ExitCode: code})
}

// latest puts sz in the one-slot channel c, replacing a size not yet
// taken: only the newest size matters.
func latest(c chan runtime.TerminalSize, sz runtime.TerminalSize) {
	for {
		select {
		case c <- sz:
			return
		default:
			select {
			case <-c:
			default:
			}
		}
	}
}

// receiver sends chunks to a client's inbox; the first failure (the
// client has gone) calls gone.
type receiver struct {
	nc    *nats.Conn
	inbox string
	once  sync.Once
	gone  func()
}

func (r *receiver) send(c *api.Chunk) error {
	err := api.Send(r.nc, r.inbox, c)
	if err != nil {
		r.once.Do(r.gone)
	}
	return err
}

// writer is an io.Writer for one of the receiver's streams (a pointer:
// the runtime compares its writers).
func (r *receiver) writer(stream string) io.Writer {
	return &streamWriter{r: r, w: api.ChunkWriter{NC: r.nc, Inbox: r.inbox, Stream: stream}}
}

type streamWriter struct {
	r *receiver
	w api.ChunkWriter
}

func (s *streamWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil {
		s.r.once.Do(s.r.gone)
	}
	return n, err
}

// keepAlive sends an empty chunk every api.KeepAlive until stop is called.
func keepAlive(r *receiver) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(api.KeepAlive)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = r.send(&api.Chunk{})
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done) }) }
}

// stdinPipe subscribes a fresh subject whose acknowledged chunks come out
// of the returned reader (EOF on the last chunk); chunks carrying a
// terminal size go to onResize (dropped when nil). stop unsubscribes.
func stdinPipe(nc *nats.Conn, node string, onResize func(api.TerminalSize)) (string, *io.PipeReader, func(), error) {
	pr, pw := io.Pipe()
	subject := api.StdinSubject(node, nuid.Next())
	sub, err := nc.Subscribe(subject, func(sm *nats.Msg) {
		var c api.Chunk
		if json.Unmarshal(sm.Data, &c) == nil {
			if c.Resize != nil && onResize != nil {
				onResize(*c.Resize)
			}
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
