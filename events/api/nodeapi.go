// The node API is the node agent's own API, for what only the node can
// do: stream a container's logs, run a command in a container, manage its
// images. The agent serves it (agent/nodeapi); these are its wire types and
// its client side. The CLI
// finds the pod's node from the control plane and talks to that node's
// agent directly over NATS:
//
//	strom.node.<node>.logs   request: LogsRequest
//	strom.node.<node>.exec   request: ExecRequest
//
// Output travels as chunks the agent sends to the client's inbox with
// request/reply, so the client acknowledges each chunk: that is the flow
// control, and a client that went away stops the stream (no ack). The last
// chunk has EOF set and, for exec, the exit code. Exec's stdin goes the
// other way, as chunks to the subject the agent names in its first reply.

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

// LogsRequest asks for a container's log.
type LogsRequest struct {
	Namespace string `json:"namespace"`
	Pod       string `json:"pod"`
	Container string `json:"container,omitempty"`
	Previous  bool   `json:"previous,omitempty"`
	Follow    bool   `json:"follow,omitempty"`
	Tail      int    `json:"tail,omitempty"` // last N lines; 0: all
	Inbox     string `json:"inbox"`
}

// ExecRequest asks to run a command in a container.
type ExecRequest struct {
	Namespace string   `json:"namespace"`
	Pod       string   `json:"pod"`
	Container string   `json:"container,omitempty"`
	Command   []string `json:"command"`
	Stdin     bool     `json:"stdin,omitempty"`
	TTY       bool     `json:"tty,omitempty"`
	Inbox     string   `json:"inbox"`
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

// Receive sends req to subject and copies the stream to stdout/stderr
// until EOF. It returns the exit code carried by the last chunk.
// onStart, if not nil, gets the first chunk's StdinSubject (exec).
func Receive(ctx context.Context, nc *nats.Conn, subject string, req any, setInbox func(string), stdout, stderr io.Writer, onStart func(stdinSubject string)) (int, error) {
	inbox := nats.NewInbox() + "." + nuid.Next()
	setInbox(inbox)
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	data, err := json.Marshal(req)
	if err != nil {
		return 0, err
	}
	// The request itself is acknowledged at once; failures come as chunks.
	reply, err := nc.RequestWithContext(ctx, subject, data)
	if errors.Is(err, nats.ErrNoResponders) {
		return 0, ErrNoAgent
	}
	if err != nil {
		return 0, err
	}
	var first Chunk
	if err := json.Unmarshal(reply.Data, &first); err != nil {
		return 0, fmt.Errorf("bad reply from agent: %w", err)
	}
	if first.Error != "" {
		return 0, errors.New(first.Error)
	}
	if onStart != nil && first.StdinSubject != "" {
		onStart(first.StdinSubject)
	}
	for {
		// Streams send a keepalive chunk at least every KeepAlive, so a
		// silence much longer than that means the agent went away.
		ictx, cancel := context.WithTimeout(ctx, 3*KeepAlive)
		m, err := sub.NextMsgWithContext(ictx)
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
			return 0, errors.New(c.Error)
		}
		if c.EOF {
			return c.ExitCode, nil
		}
	}
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

// ImagesSubject is a node's image-management subject.
func ImagesSubject(node string) string { return "strom.node." + events.EncodeToken(node) + ".images" }

// ImagesRequest manages the node's images: Op "list", "remove" (Ref) or
// "import" (the archive follows as stdin chunks).
type ImagesRequest struct {
	Op  string `json:"op"`
	Ref string `json:"ref,omitempty"`
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
	ResultInbox  string   `json:"resultInbox,omitempty"`
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
	r, err := ImagesCall(ctx, nc, node, ImagesRequest{Op: "import"})
	if err != nil {
		return nil, err
	}
	res, err := nc.SubscribeSync(r.StdinSubject + ".result")
	if err != nil {
		return nil, err
	}
	defer func() { _ = res.Unsubscribe() }()
	if err := StdinPump(nc, r.StdinSubject, archive); err != nil {
		return nil, fmt.Errorf("sending the archive: %w", err)
	}
	m, err := res.NextMsgWithContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("waiting for the import: %w", err)
	}
	var out ImagesReply
	if err := json.Unmarshal(m.Data, &out); err != nil {
		return nil, err
	}
	if out.Error != "" {
		return nil, errors.New(out.Error)
	}
	return out.Imported, nil
}
