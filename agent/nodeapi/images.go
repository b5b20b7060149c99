package nodeapi

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events/api"
)

// Images is what the node API needs of the runtime.
type Images interface {
	ImportImage(ctx context.Context, r io.Reader) ([]string, error)
	ListImages(ctx context.Context) ([]runtime.Image, error)
	RemoveImage(ctx context.Context, ref string) error
}

// ServeImages answers image requests for node until ctx ends.
func ServeImages(ctx context.Context, nc *nats.Conn, node string, imgs Images, log *zap.Logger) error {
	sub, err := nc.Subscribe(api.ImagesSubject(node), func(m *nats.Msg) { go serveImages(ctx, nc, node, imgs, m, log) })
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		_ = sub.Unsubscribe()
	}()
	return nil
}

// drainTimeout bounds how long an import that has its images waits for
// the rest of the client's input.
const drainTimeout = 10 * time.Second

func reply(m *nats.Msg, r *api.ImagesReply) {
	data, _ := json.Marshal(r)
	_ = m.Respond(data)
}

func serveImages(ctx context.Context, nc *nats.Conn, node string, imgs Images, m *nats.Msg, log *zap.Logger) {
	var req api.ImagesRequest
	if err := json.Unmarshal(m.Data, &req); err != nil {
		reply(m, &api.ImagesReply{Error: "malformed images request"})
		return
	}
	switch req.Op {
	case "list":
		list, err := imgs.ListImages(ctx)
		if err != nil {
			reply(m, &api.ImagesReply{Error: err.Error()})
			return
		}
		out := make([]api.Image, len(list))
		for i, im := range list {
			out[i] = api.Image{Name: im.Name, Digest: im.Digest, Size: im.Size}
		}
		reply(m, &api.ImagesReply{Images: out})
	case "remove":
		if err := imgs.RemoveImage(ctx, req.Ref); err != nil {
			reply(m, &api.ImagesReply{Error: err.Error()})
			return
		}
		reply(m, &api.ImagesReply{})
	case "import":
		// The client sends the archive as acknowledged chunks to a stdin
		// subject; the result goes to the inbox its request names.
		if req.ResultInbox == "" {
			reply(m, &api.ImagesReply{Error: "import: the request names no result inbox"})
			return
		}
		stdin, pr, stop, err := stdinPipe(nc, node, nil)
		if err != nil {
			reply(m, &api.ImagesReply{Error: err.Error()})
			return
		}
		defer stop()
		reply(m, &api.ImagesReply{StdinSubject: stdin})
		names, err := imgs.ImportImage(ctx, pr)
		if err == nil {
			// An archive may go on past what the importer reads (GNU tar
			// pads to 10 KiB records after its end-of-archive marker):
			// take the rest, up to the client's end of input, so its
			// last chunks are acknowledged rather than unanswered.
			drained := make(chan struct{})
			go func() { _, _ = io.Copy(io.Discard, pr); close(drained) }()
			select {
			case <-drained:
			case <-time.After(drainTimeout):
			case <-ctx.Done():
			}
		}
		_ = pr.CloseWithError(io.ErrClosedPipe)
		res := &api.ImagesReply{Imported: names}
		if err != nil {
			res = &api.ImagesReply{Error: err.Error()}
			log.Warn("image import failed", zap.Error(err))
		}
		data, _ := json.Marshal(res)
		// The client waits for this on the import's result subject.
		_ = nc.Publish(req.ResultInbox, data)
	default:
		reply(m, &api.ImagesReply{Error: "unknown images operation " + req.Op})
	}
}
