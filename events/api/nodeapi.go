// The node API is the node agent's own API, for what only the node can
// do: stream a container's logs, run a command in a container, forward a
// connection to a pod's port, manage its images. The agent serves it
// (agent/nodeapi); these are its wire types and its client side. The CLI
// and the HTTPS API find the pod's node from the control plane and talk
// to that node's agent directly over NATS:
//
//	strom.node.<node>.logs         request: LogsRequest
//	strom.node.<node>.exec         request: ExecRequest
//	strom.node.<node>.portforward  request: PortForwardRequest
//
// Output travels as chunks the agent sends to the client's inbox with
// request/reply, so the client acknowledges each chunk: that is the flow
// control, and a client that went away stops the stream (no ack). The last
// chunk has EOF set and, for exec, the exit code. Input (exec's stdin and
// terminal sizes, a forwarded connection's bytes towards the pod) goes the
// other way, as acknowledged chunks to the subject the agent names in its
// first reply. Fields added later are optional on both sides: an older
// agent ignores what it does not know.

package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"

	"github.com/strom-project/strom/events"
)

// LogsSubject and ExecSubject are a node's request subjects.
func LogsSubject(node string) string { return "strom.node." + events.EncodeToken(node) + ".logs" }

// ExecSubject is a node's exec request subject.
func ExecSubject(node string) string { return "strom.node." + events.EncodeToken(node) + ".exec" }

// StdinSubject is where a client sends one exec's, port-forward's or image
// import's input: under the node's own prefix, which only that node may
// subscribe to, so no other client or node reads it.
func StdinSubject(node, id string) string { return StdinPrefix + events.EncodeToken(node) + "." + id }

// StdinPrefix starts every stdin subject.
const StdinPrefix = "strom.stdin."

// PortForwardSubject is a node's port-forwarding request subject.
func PortForwardSubject(node string) string {
	return "strom.node." + events.EncodeToken(node) + ".portforward"
}

// LogsRequest asks for a container's log. The options after Tail are
// Kubernetes' PodLogOptions, applied by the agent.
type LogsRequest struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container,omitempty"`
	Previous  bool   `json:"previous,omitempty"`
	Follow    bool   `json:"follow,omitempty"`
	Tail      int    `json:"tail,omitempty"` // last N lines; 0: all
	// TailLines, when set, wins over Tail: the last N lines, where 0 is
	// none (with Follow: only what is written from now on).
	TailLines *int64 `json:"tailLines,omitempty"`
	// SinceSeconds (on the node's clock) or SinceTime: only the lines
	// written at or after that moment.
	SinceSeconds int64      `json:"sinceSeconds,omitempty"`
	SinceTime    *time.Time `json:"sinceTime,omitempty"`
	// Timestamps prefixes every line with the time it was written
	// (RFC 3339 with nanoseconds, then a space), as kubelet does.
	Timestamps bool `json:"timestamps,omitempty"`
	// LimitBytes ends the stream after that many bytes; 0: no limit.
	LimitBytes int64  `json:"limitBytes,omitempty"`
	Inbox      string `json:"inbox"`
}

// ExecRequest asks to run a command in a container.
type ExecRequest struct {
	Namespace string   `json:"namespace"`
	Pod       string   `json:"pod"`
	Container string   `json:"container,omitempty"`
	Command   []string `json:"command"`
	Stdin     bool     `json:"stdin,omitempty"`
	TTY       bool     `json:"tty,omitempty"`
	// Resize: the client sends terminal sizes (Chunk.Resize) to the
	// stdin subject, which the agent then opens even without Stdin.
	Resize bool   `json:"resize,omitempty"`
	Inbox  string `json:"inbox"`
}

// PortForwardRequest asks the agent to open a TCP connection to a port of
// a pod, from inside the pod's network namespace (as kubelet does: a
// server listening on the pod's loopback is reached too), and to pipe it:
// the pod's bytes come as chunks to Inbox, the client's go to the stdin
// subject; an EOF chunk from the client half-closes the connection.
type PortForwardRequest struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	UID       string `json:"uid"` // the pod's uid: a recreated pod of that name is another pod
	Port      int32  `json:"port"`
	Inbox     string `json:"inbox"`
}

// TerminalSize is a terminal's size in characters.
type TerminalSize struct {
	Width  uint16 `json:"width"`
	Height uint16 `json:"height"`
}

// Chunk is one piece of a stream.
type Chunk struct {
	Stream   string `json:"stream,omitempty"` // "stdout" or "stderr"
	Data     []byte `json:"data,omitempty"`
	EOF      bool   `json:"eof,omitempty"`
	ExitCode int    `json:"exitCode,omitempty"`
	Error    string `json:"error,omitempty"`
	// StdinSubject, in exec's first reply, is where to send stdin chunks.
	StdinSubject string `json:"stdinSubject,omitempty"`
	// Resize, on the stdin subject, is the client terminal's new size.
	Resize *TerminalSize `json:"resize,omitempty"`
}

// KeepAlive is the longest a stream stays silent: an idle follow (or a
// long-running exec) sends an empty chunk this often.
const KeepAlive = 10 * time.Second

// ackTimeout is how long a sender waits for a chunk's acknowledgement
// before deciding the receiver has gone.
const ackTimeout = 30 * time.Second

// Send delivers one chunk and waits for the receiver's acknowledgement.
func Send(nc *nats.Conn, inbox string, c *Chunk) error {
	data, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if _, err := nc.Request(inbox, data, ackTimeout); err != nil {
		return fmt.Errorf("receiver gone: %w", err)
	}
	return nil
}

// ChunkWriter is an io.Writer that sends what it gets as chunks.
type ChunkWriter struct {
	NC     *nats.Conn
	Inbox  string
	Stream string
}

func (w *ChunkWriter) Write(p []byte) (int, error) {
	if len(p) == 0 { // a keepalive
		return 0, Send(w.NC, w.Inbox, &Chunk{Stream: w.Stream})
	}
	for off := 0; off < len(p); off += 64 << 10 {
		end := min(off+64<<10, len(p))
		if err := Send(w.NC, w.Inbox, &Chunk{Stream: w.Stream, Data: append([]byte(nil), p[off:end]...)}); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// ErrNoAgent says the node's agent does not answer.
var ErrNoAgent = errors.New("the node agent is not answering")

// NodeError is an error the node agent reported (the container is not
// there, not running, the port refused the connection ...), as opposed
// to a failure to reach it.
type NodeError struct{ Message string }

func (e *NodeError) Error() string { return e.Message }

// Stream is the client's end of a node API stream the agent accepted.
type Stream struct {
	nc  *nats.Conn
	sub *nats.Subscription
	// StdinSubject is where input goes, when the request has any.
	StdinSubject string
}

// Open sends req to subject and waits for the agent's first reply: a
// refusal (a *NodeError, or ErrNoAgent when nobody answers) or the open
// stream, whose chunks Copy reads. setInbox puts the stream's inbox in
// req before it is sent. Close the stream when done.
func Open(ctx context.Context, nc *nats.Conn, subject string, req any, setInbox func(string)) (*Stream, error) {
	inbox := nc.NewInbox() + "." + nuid.Next() // under the connection's own prefix
	setInbox(inbox)
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	s := &Stream{nc: nc, sub: sub}
	data, err := json.Marshal(req)
	if err != nil {
		s.Close()
		return nil, err
	}
	// The request itself is acknowledged at once; failures come as chunks.
	reply, err := nc.RequestWithContext(ctx, subject, data)
	if errors.Is(err, nats.ErrNoResponders) {
		s.Close()
		return nil, ErrNoAgent
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	var first Chunk
	if err := json.Unmarshal(reply.Data, &first); err != nil {
		s.Close()
		return nil, fmt.Errorf("bad reply from agent: %w", err)
	}
	if first.Error != "" {
		s.Close()
		return nil, &NodeError{Message: first.Error}
	}
	s.StdinSubject = first.StdinSubject
	return s, nil
}

// Close unsubscribes: the agent's next chunk finds no receiver and it
// stops.
func (s *Stream) Close() { _ = s.sub.Unsubscribe() }

// Copy copies the stream to stdout/stderr (io.Discard when nil) until
// EOF and returns the exit code carried by the last chunk. A chunk with
// an error ends it with a *NodeError.
func (s *Stream) Copy(ctx context.Context, stdout, stderr io.Writer) (int, error) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	for {
		// Streams send a keepalive chunk at least every KeepAlive, so a
		// silence much longer than that means the agent went away.
		ictx, cancel := context.WithTimeout(ctx, 3*KeepAlive)
		m, err := s.sub.NextMsgWithContext(ictx)
		cancel()
		if err != nil {
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
				return 0, fmt.Errorf("the node agent stopped responding: %w", ErrNoAgent)
			}
			return 0, err
		}
		var c Chunk
		if err := json.Unmarshal(m.Data, &c); err != nil {
			return 0, fmt.Errorf("bad chunk from agent: %w", err)
		}
		w := stdout
		if c.Stream == "stderr" {
			w = stderr
		}
		if len(c.Data) > 0 {
			if _, err := w.Write(c.Data); err != nil {
				return 0, err
			}
		}
		_ = m.Respond(nil)
		if c.Error != "" {
			return 0, &NodeError{Message: c.Error}
		}
		if c.EOF {
			return c.ExitCode, nil
		}
	}
}

// Receive sends req to subject and copies the stream to stdout/stderr
// until EOF. It returns the exit code carried by the last chunk.
// onStart, if not nil, gets the first chunk's StdinSubject (exec).
func Receive(ctx context.Context, nc *nats.Conn, subject string, req any, setInbox func(string), stdout, stderr io.Writer, onStart func(stdinSubject string)) (int, error) {
	s, err := Open(ctx, nc, subject, req, setInbox)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if onStart != nil && s.StdinSubject != "" {
		onStart(s.StdinSubject)
	}
	return s.Copy(ctx, stdout, stderr)
}

// StdinPump copies r to an exec's stdin subject as acknowledged chunks.
func StdinPump(nc *nats.Conn, subject string, r io.Reader) error {
	br := bufio.NewReader(r)
	buf := make([]byte, 32<<10)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			if serr := Send(nc, subject, &Chunk{Data: bytes.Clone(buf[:n])}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) {
			return Send(nc, subject, &Chunk{EOF: true})
		}
		if err != nil {
			return err
		}
	}
}

// ExecIO are an exec's streams; nil ones are not used (Stdin only when
// the request asks for it).
type ExecIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Resize carries the client terminal's sizes (TTY); closing it, or
	// ctx ending, stops sending them.
	Resize <-chan TerminalSize
}

// Exec runs req in a container on node and returns the command's exit
// code. It is the client side of exec for every front door.
func Exec(ctx context.Context, nc *nats.Conn, node string, req *ExecRequest, eio ExecIO) (int, error) {
	req.Resize = eio.Resize != nil
	s, err := Open(ctx, nc, ExecSubject(node), req, func(inbox string) { req.Inbox = inbox })
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if s.StdinSubject != "" {
		if req.Stdin && eio.Stdin != nil {
			go func() { _ = StdinPump(nc, s.StdinSubject, eio.Stdin) }()
		}
		if eio.Resize != nil {
			go resizePump(ctx, nc, s.StdinSubject, eio.Resize)
		}
	}
	return s.Copy(ctx, eio.Stdout, eio.Stderr)
}

// resizePump sends terminal sizes to an exec's stdin subject until sizes
// is closed, ctx ends or the agent stops listening.
func resizePump(ctx context.Context, nc *nats.Conn, subject string, sizes <-chan TerminalSize) {
	for {
		select {
		case <-ctx.Done():
			return
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			if err := Send(nc, subject, &Chunk{Resize: &sz}); err != nil {
				return
			}
		}
	}
}

// PortForward pipes conn to a pod's port through the node's agent: what
// is read from conn goes to the pod (EOF half-closes the pod's side), what
// the pod sends is written to conn. It returns when the pod's side has
// ended, or with the error that ended it; the caller closes conn.
func PortForward(ctx context.Context, nc *nats.Conn, node string, req *PortForwardRequest, conn io.ReadWriter) error {
	s, err := Open(ctx, nc, PortForwardSubject(node), req, func(inbox string) { req.Inbox = inbox })
	if err != nil {
		return err
	}
	defer s.Close()
	if s.StdinSubject == "" {
		return fmt.Errorf("bad reply from agent: no subject for the connection's data")
	}
	go func() { _ = StdinPump(nc, s.StdinSubject, conn) }()
	_, err = s.Copy(ctx, conn, conn)
	return err
}

// ImagesSubject is a node's image-management subject.
func ImagesSubject(node string) string { return "strom.node." + events.EncodeToken(node) + ".images" }

// ImagesRequest manages the node's images: Op "list", "remove" (Ref) or
// "import" (the archive follows as stdin chunks).
type ImagesRequest struct {
	Op  string `json:"op"`
	Ref string `json:"ref,omitempty"`
	// ResultInbox, for import, is where the node sends the outcome: an
	// inbox of the client's own, which no one else may read.
	ResultInbox string `json:"resultInbox,omitempty"`
}

// Image is one image in a node's image store.
type Image struct {
	Name   string // normalised reference, e.g. docker.io/library/busybox:latest
	Digest string // manifest (or index) digest
	Size   int64  // size of the content as stored, compressed
}

// ImagesReply answers an ImagesRequest.
type ImagesReply struct {
	Error        string   `json:"error,omitempty"`
	Images       []Image  `json:"images,omitempty"`
	Imported     []string `json:"imported,omitempty"`
	StdinSubject string   `json:"stdinSubject,omitempty"` // import: where the archive goes
}

// ImagesCall sends a list or remove request to a node.
func ImagesCall(ctx context.Context, nc *nats.Conn, node string, req ImagesRequest) (*ImagesReply, error) {
	data, _ := json.Marshal(req)
	m, err := nc.RequestWithContext(ctx, ImagesSubject(node), data)
	if err != nil {
		if err == nats.ErrNoResponders {
			return nil, ErrNoAgent
		}
		return nil, err
	}
	var r ImagesReply
	if err := json.Unmarshal(m.Data, &r); err != nil {
		return nil, err
	}
	if r.Error != "" {
		return nil, errors.New(r.Error)
	}
	return &r, nil
}

// ImportImage streams an image archive to a node and returns the names
// it imported.
func ImportImage(ctx context.Context, nc *nats.Conn, node string, archive io.Reader) ([]string, error) {
	inbox := nc.NewInbox()
	res, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Unsubscribe() }()
	r, err := ImagesCall(ctx, nc, node, ImagesRequest{Op: "import", ResultInbox: inbox})
	if err != nil {
		return nil, err
	}
	if err := StdinPump(nc, r.StdinSubject, archive); err != nil {
		// The node may have stopped reading because it is done (or
		// refused the archive): its result says which.
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, rerr := res.NextMsgWithContext(wctx)
		cancel()
		if rerr != nil {
			return nil, fmt.Errorf("sending the archive: %w", err)
		}
		return importResult(m)
	}
	m, err := res.NextMsgWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the import: %w", err)
	}
	return importResult(m)
}

// importResult reads a node's import result.
func importResult(m *nats.Msg) ([]string, error) {
	var out ImagesReply
	if err := json.Unmarshal(m.Data, &out); err != nil {
		return nil, err
	}
	if out.Error != "" {
		return nil, errors.New(out.Error)
	}
	return out.Imported, nil
}
