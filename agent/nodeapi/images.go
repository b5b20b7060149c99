package nodeapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events"
)

// ImagesSubject is a node's image-management subject.
func ImagesSubject(node string) string { return "strom.node." + events.EncodeToken(node) + ".images" }

// ImagesRequest manages the node's images: Op "list", "remove" (Ref) or
// "import" (the archive follows as stdin chunks).
type ImagesRequest struct {
	Op  string `json:"op"`
	Ref string `json:"ref,omitempty"`
}

// ImagesReply answers an ImagesRequest.
type ImagesReply struct {
	Error        string          `json:"error,omitempty"`
	Images       []runtime.Image `json:"images,omitempty"`
	Imported     []string        `json:"imported,omitempty"`
	StdinSubject string          `json:"stdinSubject,omitempty"` // import: where the archive goes
	ResultInbox  string          `json:"resultInbox,omitempty"`
}

// Images is what the node API needs of the runtime.
type Images interface {
	ImportImage(ctx context.Context, r io.Reader) ([]string, error)
	ListImages(ctx context.Context) ([]runtime.Image, error)
	RemoveImage(ctx context.Context, ref string) error
}

// ServeImages answers image requests for node until ctx ends.
func ServeImages(ctx context.Context, nc *nats.Conn, node string, imgs Images, log *zap.Logger) error {
	sub, err := nc.Subscribe(ImagesSubject(node), func(m *nats.Msg) { go serveImages(ctx, nc, imgs, m, log) })
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

func reply(m *nats.Msg, r *ImagesReply) {
	data, _ := json.Marshal(r)
	_ = m.Respond(data)
}

func serveImages(ctx context.Context, nc *nats.Conn, imgs Images, m *nats.Msg, log *zap.Logger) {
	var req ImagesRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		reply(m, &ImagesReply{Error: "malformed images request"})
		return
	}
	switch req.Op {
	case "list":
		list, err := imgs.ListImages(ctx)
		if err != nil {
			reply(m, &ImagesReply{Error: err.Error()})
			return
		}
		reply(m, &ImagesReply{Images: list})
	case "remove":
		if err := imgs.RemoveImage(ctx, req.Ref); err != nil {
			reply(m, &ImagesReply{Error: err.Error()})
			return
		}
		reply(m, &ImagesReply{})
	case "import":
		// The client sends the archive as acknowledged chunks to a stdin
		// subject; the result goes to the inbox it names in its last chunk.
		stdin, pr, stop, err := stdinPipe(nc)
		if err != nil {
			reply(m, &ImagesReply{Error: err.Error()})
			return
		}
		defer stop()
		reply(m, &ImagesReply{StdinSubject: stdin})
		names, err := imgs.ImportImage(ctx, pr)
		_ = pr.CloseWithError(io.ErrClosedPipe)
		res := &ImagesReply{Imported: names}
		if err != nil {
			res = &ImagesReply{Error: err.Error()}
			log.Warn("image import failed", zap.Error(err))
		}
		data, _ := json.Marshal(res)
		// The client waits for this on the import's result subject.
		_ = nc.Publish(stdin+".result", data)
	default:
		reply(m, &ImagesReply{Error: "unknown images operation " + req.Op})
	}
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
