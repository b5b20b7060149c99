package projections

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// checkAgainstStore returns an fn for the readers that compares each
// delivered message with the stored one and records its sequence.
func checkAgainstStore(ctx context.Context, st jetstream.Stream, got *[]uint64) func(*rawEvent) error {
	return func(ev *rawEvent) error {
		want, err := st.GetMsg(ctx, ev.seq)
		if err != nil {
			return err
		}
		if ev.rawHeader != nil { // the snapshot reader's
			if ev.header, err = nats.DecodeHeadersMsg(ev.rawHeader); err != nil {
				return fmt.Errorf("#%d: %w", ev.seq, err)
			}
		}
		if ev.subject != want.Subject || string(ev.data) != string(want.Data) || ev.header.Get("N") != want.Header.Get("N") ||
			ev.header.Get("Strom-Type") != "Updated" || !ev.time.Equal(want.Time) {
			return fmt.Errorf("#%d: got %s %q %v, stored %s %q %v", ev.seq, ev.subject, ev.header.Get("N"), ev.time,
				want.Subject, want.Header.Get("N"), want.Time)
		}
		*got = append(*got, ev.seq)
		return nil
	}
}

func TestReadSnapshotDeliversInOrder(t *testing.T) {
	js, st := gapStream(t, 300)
	ctx := context.Background()
	// The server says how each snapshot ended.
	done := make(chan *nats.Msg, 16)
	adv, err := js.Conn().ChanSubscribe("$JS.EVENT.ADVISORY.STREAM.SNAPSHOT_COMPLETE.GAPS", done)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = adv.Unsubscribe() }()
	var got []uint64
	if err := readSnapshot(ctx, js, "GAPS", 41, 260, checkAgainstStore(ctx, st, &got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 220 || got[0] != 41 || got[len(got)-1] != 260 {
		t.Fatalf("read %d messages (%v..), want #41..#260", len(got), got[:min(3, len(got))])
	}
	// The 40 messages after the range were read to the end, so the
	// server completed the snapshot rather than losing its reader.
	select {
	case m := <-done:
		var a struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(m.Data, &a); err != nil || a.Error != "" {
			t.Fatalf("snapshot advisory: %s (%v)", m.Data, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no snapshot-complete advisory")
	}
	// An error from fn ends the read with that error.
	stopErr := errors.New("stop here")
	n := 0
	err = readSnapshot(ctx, js, "GAPS", 1, 300, func(*rawEvent) error {
		if n++; n == 10 {
			return stopErr
		}
		return nil
	})
	if !errors.Is(err, stopErr) || isSnapshotUnusable(err) || n != 10 {
		t.Fatalf("fn error: %v after %d calls", err, n)
	}
	// Cancelling mid-read ends it with the context's error, and the server
	// lets the next snapshot run.
	cctx, cancel := context.WithCancel(ctx)
	n = 0
	err = readSnapshot(cctx, js, "GAPS", 1, 300, func(*rawEvent) error {
		if n++; n == 5 {
			cancel()
			time.Sleep(50 * time.Millisecond) // let the cancel be seen first
		}
		return nil
	})
	if err == nil || n == 300 {
		t.Fatalf("cancelled read: %v after %d messages", err, n)
	}
	got = nil
	if err := readSnapshot(ctx, js, "GAPS", 1, 300, checkAgainstStore(ctx, st, &got)); err != nil || len(got) != 300 {
		t.Fatalf("read after a cancelled one: %v, %d messages", err, len(got))
	}
}

func TestSnapshotWorthIt(t *testing.T) {
	for _, c := range []struct {
		count, msgs, deleted uint64
		toEnd, want          bool
	}{
		{1_000_000, 1_000_000, 0, true, true},
		{600_000, 1_000_000, 0, true, true},
		{400_000, 1_000_000, 0, true, false},  // under half the stream
		{600_000, 1_000_000, 0, false, false}, // not to the end
		{600_000, 1_000_000, 3, true, false},  // holes
		{9_999, 9_999, 0, true, false},        // too short to be worth it
		{10_000, 10_000, 0, true, true},
	} {
		if got := snapshotWorthIt(c.count, c.msgs, c.deleted, c.toEnd); got != c.want {
			t.Errorf("%+v: %v", c, got)
		}
	}
}

// The snapshot is only used where it cannot be wrong or stall; each
// refusal comes before anything is delivered, so Export can fall back.
func TestReadSnapshotRefusals(t *testing.T) {
	js, st := gapStream(t, 100)
	ctx := context.Background()
	none := func(*rawEvent) error { return errors.New("nothing should be delivered") }

	// A range starting before the stream does.
	if err := readSnapshot(ctx, js, "GAPS", 1, 120, none); !isSnapshotUnusable(err) || !strings.Contains(err.Error(), "#1–#120") {
		t.Fatalf("range past the end: %v", err)
	}
	// A stream with a hole.
	if err := st.DeleteMsg(ctx, 60); err != nil {
		t.Fatal(err)
	}
	if err := readSnapshot(ctx, js, "GAPS", 1, 100, none); !isSnapshotUnusable(err) {
		t.Fatalf("stream with a hole: %v", err)
	}
	// No such stream.
	if err := readSnapshot(ctx, js, "NOPE", 1, 100, none); !isSnapshotUnusable(err) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("no stream: %v", err)
	}
}

// A user who may not snapshot gets no answer at all; the reader gives up
// after snapshotRequestTimeout and says it could not be used.
func TestReadSnapshotWithoutPermission(t *testing.T) {
	s := startServer(t, server.Options{
		Users: []*server.User{
			{Username: "full", Password: "pw"},
			{Username: "reader", Password: "pw", Permissions: &server.Permissions{Publish: &server.SubjectPermission{
				Allow: []string{"$JS.API.STREAM.INFO.>", "$JS.API.CONSUMER.>", "$JS.ACK.>"}}}},
		}})
	connect := func(user string) jetstream.JetStream {
		return connectJS(t, s, nats.UserInfo(user, "pw"), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
	}
	ctx := context.Background()
	full := connect("full")
	if _, err := full.CreateStream(ctx, jetstream.StreamConfig{Name: "P", Subjects: []string{"p"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := full.Publish(ctx, "p", []byte("x")); err != nil {
		t.Fatal(err)
	}
	old := snapshotRequestTimeout
	snapshotRequestTimeout = 300 * time.Millisecond
	defer func() { snapshotRequestTimeout = old }()
	err := readSnapshot(ctx, connect("reader"), "P", 1, 1, func(*rawEvent) error { return nil })
	if !isSnapshotUnusable(err) || !strings.Contains(err.Error(), "snapshot request") {
		t.Fatalf("without permission: %v", err)
	}
	n := 0
	if err := readSnapshot(ctx, full, "P", 1, 1, func(*rawEvent) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("with permission: %v, %d messages", err, n)
	}
}

// The stream's head dropped by its limits: ranges inside what is kept
// read from a snapshot (records of dropped messages still in the store's
// blocks are not delivered), ranges before it are refused.
func TestReadSnapshotAfterRetention(t *testing.T) {
	js, st := gapStream(t, 0)
	ctx := context.Background()
	if _, err := js.UpdateStream(ctx, jetstream.StreamConfig{Name: "GAPS", Subjects: []string{"gaps.>"}, MaxMsgs: 150}); err != nil {
		t.Fatal(err)
	}
	publishGaps(t, js, 1, 400, "y")
	var got []uint64
	if err := readSnapshot(ctx, js, "GAPS", 251, 400, checkAgainstStore(ctx, st, &got)); err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 || got[0] != 251 {
		t.Fatalf("read %d messages from #%v, want 150 from #251", len(got), got[:min(1, len(got))])
	}
	if err := readSnapshot(ctx, js, "GAPS", 200, 400, nil); !isSnapshotUnusable(err) {
		t.Fatalf("range before the kept head: %v", err)
	}
}

// The snapshot's last message says how it ended.
func TestChunkReaderStatus(t *testing.T) {
	end := func(status, desc string) *nats.Msg {
		m := nats.NewMsg("_INBOX.x")
		m.Header.Set("Status", status)
		if desc != "" {
			m.Header.Set("Description", desc)
		}
		return m
	}
	for _, c := range []struct {
		m    *nats.Msg
		want string // "" for a clean end
	}{
		{end("204", ""), ""},
		{end("500", "couldn't load next message after seq 7"), "500 couldn't load next message after seq 7"},
		{end("408", "No Flow Response"), "408 No Flow Response"},
	} {
		ch := make(chan *nats.Msg, 2)
		ch <- &nats.Msg{Subject: "_INBOX.x", Data: []byte("chunk")}
		ch <- c.m
		r := &chunkReader{ctx: context.Background(), ch: ch}
		b := make([]byte, 16)
		n, err := r.Read(b)
		if err != nil || string(b[:n]) != "chunk" {
			t.Fatalf("first read: %q %v", b[:n], err)
		}
		_, err = r.Read(b)
		switch {
		case c.want == "" && err.Error() != "EOF":
			t.Fatalf("clean end: %v", err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Fatalf("status %s: %v, want an error naming %q", c.m.Header.Get("Status"), err, c.want)
		}
	}
}
