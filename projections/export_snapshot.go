package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/nats-io/nats-server/v2/server/archive"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/strom-project/strom/events"
)

// The snapshot reader: the export's fast path for large ranges.
//
// A push consumer delivers one message at a time: the server builds and
// sends a protocol message per event and the client parses one, which
// bounds an export to ~250,000 events/s on two cores. JetStream's stream
// snapshot API ($JS.API.STREAM.SNAPSHOT.<stream>, what `nats stream
// backup` uses) instead streams the whole stream in bulk: s2-compressed
// chunks of up to 1 MiB, acknowledged for flow control. From nats-server
// 2.15 the snapshot is a message archive (nats-server's server/archive
// package, magic "NATSARC1"): a state.json entry, consumer entries (not
// asked for here), then one entry per message carrying its subject,
// sequence, stream timestamp and headers+payload, each checksum-verified
// by the server as it loads it, then an empty end marker.
//
// Whenever something is off before the first record is delivered (the
// user may not snapshot, the stream has holes, the server sends the file
// store's blocks as nats-server before 2.15 does), readSnapshot returns
// a snapshotUnusable error and Export reads with the push consumer
// instead; after the first record, any problem fails the export, naming
// it. Sequences must be exactly consecutive over the range, as with the
// consumers.

// snapshotMinEvents is the smallest range worth a snapshot: the server
// sends the whole stream, so a short range reads faster with a consumer.
var snapshotMinEvents uint64 = 10_000

// snapshotChunk and snapshotWindow are the chunk size and flow-control
// window asked for (the server's maximums).
const (
	snapshotChunk  = 1 << 20
	snapshotWindow = 32 << 20
)

// snapshotDrainMax is the longest tail after the range that is read (and
// dropped) rather than cut short.
const snapshotDrainMax = 10_000

// snapshotRequestTimeout bounds the wait for the server's answer to a
// snapshot request. A user without permission gets no answer at all (the
// server only reports a violation asynchronously), so this is also what
// an automatic export loses before it falls back to a consumer.
var snapshotRequestTimeout = 5 * time.Second

// snapshotUnusable means the snapshot path could not start; nothing was
// delivered, so the caller may read the range another way.
type snapshotUnusable struct{ err error }

func (e *snapshotUnusable) Error() string { return "snapshot read unusable: " + e.err.Error() }
func (e *snapshotUnusable) Unwrap() error { return e.err }

// snapshotWorthIt says whether a range of count events reaching to the
// end of a stream of msgs messages (with deleted interior ones) should be
// read from a snapshot: the server sends the whole stream, so only a
// large part of it is worth that.
func snapshotWorthIt(count, msgs, deleted uint64, toEnd bool) bool {
	return toEnd && deleted == 0 && count >= snapshotMinEvents && count*2 >= msgs
}

// apiPrefix is the JetStream API prefix js sends requests to.
func apiPrefix(js jetstream.JetStream) string {
	o := js.Options()
	switch {
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	case o.APIPrefix != "":
		return strings.TrimSuffix(o.APIPrefix, ".") + "."
	}
	return jetstream.DefaultAPIPrefix
}

type snapshotRequest struct {
	DeliverSubject string `json:"deliver_subject"`
	NoConsumers    bool   `json:"no_consumers,omitempty"`
	ChunkSize      int    `json:"chunk_size,omitempty"`
	WindowSize     int    `json:"window_size,omitempty"`
}

type snapshotResponse struct {
	Error *struct {
		Code        int    `json:"code"`
		ErrCode     int    `json:"err_code"`
		Description string `json:"description"`
	} `json:"error"`
	State *struct {
		FirstSeq   uint64 `json:"first_seq"`
		LastSeq    uint64 `json:"last_seq"`
		NumDeleted int    `json:"num_deleted"`
	} `json:"state"`
}

// readSnapshot delivers every message with a sequence in [from, to] to
// fn, in order, read from a snapshot of the stream.
func readSnapshot(ctx context.Context, js jetstream.JetStream, stream string, from, to uint64, fn func(*rawEvent) error) error {
	nc := js.Conn()
	unusable := func(format string, a ...any) error {
		return &snapshotUnusable{fmt.Errorf(format, a...)}
	}
	// The server sends at most window/chunk unacknowledged chunks and a
	// last status message, and a chunk is acknowledged only when it is
	// read: a channel of this size never fills, so nats.go never drops.
	ch := make(chan *nats.Msg, snapshotWindow/snapshotChunk+8)
	inbox := nc.NewInbox()
	sub, err := nc.ChanSubscribe(inbox, ch)
	if err != nil {
		return unusable("subscribing: %w", err)
	}
	defer func() { _ = sub.Unsubscribe() }() // the server stops at lost interest
	req, _ := json.Marshal(snapshotRequest{DeliverSubject: inbox, NoConsumers: true, ChunkSize: snapshotChunk, WindowSize: snapshotWindow})
	rctx, cancel := context.WithTimeout(ctx, snapshotRequestTimeout)
	defer cancel()
	msg, err := nc.RequestWithContext(rctx, apiPrefix(js)+"STREAM.SNAPSHOT."+stream, req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("export: snapshot request: %w", ctx.Err())
		}
		return unusable("snapshot request: %w", err)
	}
	var resp snapshotResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return unusable("snapshot response: %w", err)
	}
	if resp.Error != nil {
		return unusable("snapshot refused: %s (%d)", resp.Error.Description, resp.Error.ErrCode)
	}
	if s := resp.State; s == nil || s.NumDeleted != 0 || s.FirstSeq > from || s.LastSeq < to {
		return unusable("the stream's state does not cover #%d–#%d without holes: %+v", from, to, resp.State)
	}

	cr := &chunkReader{ctx: ctx, nc: nc, ch: ch}
	// The snapshot holds the stream as it was when it started: whatever
	// was appended after the export began follows the range. A short tail
	// is read to the end so that the server sees a completed snapshot.
	ar := &archiveReader{ctx: ctx, next: from, to: to, fn: fn, drain: resp.State.LastSeq-to <= snapshotDrainMax}
	err = ar.read(archive.NewReader(s2.NewReader(cr)))
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("export: reading #%d from a snapshot of %s: %w", ar.next, stream, ctx.Err())
	case !ar.delivered:
		return unusable("%w", err)
	}
	return fmt.Errorf("export: reading #%d from a snapshot of %s: %w", ar.next, stream, err)
}

// chunkReader is the snapshot's chunks as one byte stream. Each chunk is
// acknowledged as it is taken, which lets the server send the next.
type chunkReader struct {
	ctx context.Context
	nc  *nats.Conn
	ch  chan *nats.Msg
	buf []byte
	eof bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		idle := time.NewTimer(exportIdle)
		select {
		case m := <-r.ch:
			idle.Stop()
			if err := r.take(m); err != nil {
				return 0, err
			}
		case <-r.ctx.Done():
			idle.Stop()
			return 0, r.ctx.Err()
		case <-idle.C:
			return 0, fmt.Errorf("no snapshot chunk for %v", exportIdle)
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *chunkReader) take(m *nats.Msg) error {
	if len(m.Data) == 0 {
		// The last message: an empty body with a status, 204 when the
		// snapshot is complete.
		status := m.Header.Get("Status")
		if status == "204" || (status == "" && m.Reply == "") {
			r.eof = true
			return nil
		}
		return fmt.Errorf("snapshot failed: %s %s", status, m.Header.Get("Description"))
	}
	r.buf = m.Data
	if m.Reply != "" {
		if err := r.nc.Publish(m.Reply, nil); err != nil {
			return fmt.Errorf("acknowledging a snapshot chunk: %w", err)
		}
	}
	return nil
}

// archiveReader reads the messages out of a snapshot archive.
type archiveReader struct {
	ctx       context.Context
	next, to  uint64
	drain     bool // read the archive to its end marker
	fn        func(*rawEvent) error
	delivered bool // fn has been called
	buf       []byte
	ev        rawEvent
}

// read delivers the range's messages. Once the range is done it reads on
// to the end when drain is set; otherwise it stops there, and the
// unsubscribe stops the server (which logs the lost interest as a failed
// snapshot).
func (r *archiveReader) read(ar *archive.Reader) error {
	for first := true; r.next <= r.to || r.drain; first = false {
		h, err := ar.Next()
		if err != nil {
			if first && errors.Is(err, archive.ErrInvalidArchive) {
				return errors.New("not a message archive (a nats-server before 2.15 sends its file store instead)")
			}
			return fmt.Errorf("reading the snapshot: %w", err)
		}
		switch {
		case h.Name == "" && h.Sequence == 0:
			if r.next <= r.to {
				return fmt.Errorf("the snapshot ended at #%d, before #%d", r.next-1, r.to)
			}
			return nil // the end marker
		case h.Sequence == 0:
			continue // state.json, consumers
		case r.next > r.to:
			continue // after the range, read to the end (see drain)
		case h.Sequence < r.next:
			continue // before the range
		case h.Sequence != r.next:
			return events.Errorf(events.ReasonGone, "expected #%d, the snapshot has #%d next (retention dropped events while exporting?)", r.next, h.Sequence)
		}
		size := h.HeaderSize + h.PayloadSize
		if size > recMaxLen {
			return fmt.Errorf("#%d: %d bytes", h.Sequence, size)
		}
		if int64(cap(r.buf)) < size {
			r.buf = make([]byte, size)
		}
		b := r.buf[:size]
		if _, err := io.ReadFull(ar, b); err != nil {
			return fmt.Errorf("#%d: %w", h.Sequence, err)
		}
		r.ev = rawEvent{seq: h.Sequence, time: time.Unix(0, h.Timestamp), subject: h.Name, data: b[h.HeaderSize:]}
		if h.HeaderSize > 0 {
			r.ev.rawHeader = b[:h.HeaderSize]
		}
		r.delivered = true
		if err := r.fn(&r.ev); err != nil {
			return err
		}
		// A chunk holds many messages: look for a cancel between them.
		if r.next++; r.next%256 == 0 && r.ctx.Err() != nil {
			return r.ctx.Err()
		}
	}
	return nil
}

// recMaxLen bounds one message (the stream's own limit is far lower), so
// a corrupt size cannot allocate without bound.
const recMaxLen = 64 << 20

func isSnapshotUnusable(err error) bool {
	var u *snapshotUnusable
	return errors.As(err, &u)
}
