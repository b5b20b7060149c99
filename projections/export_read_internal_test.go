package projections

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/strom-project/strom/events"
)

// startServer starts an in-process nats-server with JetStream in a
// temporary directory; opts may add users.
func startServer(t *testing.T, opts server.Options) *server.Server {
	t.Helper()
	opts.Host, opts.Port, opts.JetStream = "127.0.0.1", server.RANDOM_PORT, true
	opts.StoreDir, opts.NoSigs, opts.NoLog = t.TempDir(), true, true
	s, err := server.NewServer(&opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

// connectJS connects to s (closed when the test ends).
func connectJS(t *testing.T, s *server.Server, opts ...nats.Option) jetstream.JetStream {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// gapStream starts a server with a stream "GAPS" of n messages that
// allows deletes (Strom's own stream refuses them).
func gapStream(t *testing.T, n int) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	js := connectJS(t, startServer(t, server.Options{}))
	st, err := js.CreateStream(context.Background(), jetstream.StreamConfig{Name: "GAPS", Subjects: []string{"gaps.>"}})
	if err != nil {
		t.Fatal(err)
	}
	publishGaps(t, js, 1, n, "x")
	return js, st
}

// publishGaps publishes messages from..to to GAPS, message i with i
// bytes of fill.
func publishGaps(t *testing.T, js jetstream.JetStream, from, to int, fill string) {
	t.Helper()
	for i := from; i <= to; i++ {
		m := nats.NewMsg(fmt.Sprintf("gaps.obj.%d", i%7))
		m.Header.Set("Strom-Type", "Updated")
		m.Header.Set("N", fmt.Sprint(i))
		m.Data = []byte(strings.Repeat(fill, i))
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
}

func TestReadRangeDeliversInOrder(t *testing.T) {
	js, st := gapStream(t, 300)
	ctx := context.Background()
	var got []uint64
	err := readRange(ctx, js, "GAPS", 41, 260, checkAgainstStore(ctx, st, &got))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 220 || got[0] != 41 || got[len(got)-1] != 260 {
		t.Fatalf("read %d messages (%v..), want #41..#260", len(got), got[:min(3, len(got))])
	}
	// An error from fn ends the read with that error.
	stopErr := fmt.Errorf("stop here")
	n := 0
	err = readRange(ctx, js, "GAPS", 1, 300, func(*rawEvent) error {
		if n++; n == 10 {
			return stopErr
		}
		return nil
	})
	if err != stopErr || n != 10 {
		t.Fatalf("fn error: %v after %d calls", err, n)
	}
}

func TestReadRangeReportsGaps(t *testing.T) {
	js, st := gapStream(t, 100)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := st.DeleteMsg(ctx, 60); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := readRange(ctx, js, "GAPS", 1, 100, func(*rawEvent) error { n++; return nil })
	if events.ReasonOf(err) != events.ReasonGone || !strings.Contains(err.Error(), "#60") || n != 59 {
		t.Fatalf("read over a hole at #60: %v after %d messages, want Gone naming #60 after 59", err, n)
	}
	// A range past the end waits for messages that never come, and says so.
	cctx, ccancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer ccancel()
	err = readRange(cctx, js, "GAPS", 99, 120, func(*rawEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "#101") {
		t.Fatalf("read past the end: %v, want an error naming #101", err)
	}
}

func TestAckSeqTime(t *testing.T) {
	for reply, want := range map[string]uint64{
		"$JS.ACK.STROM_EVENTS.c1.1.42.40.1700000000000000000.7":                 42,
		"$JS.ACK.hub.ACCHASH.STROM_EVENTS.c1.1.43.40.1700000000000000000.7.tok": 43,
		"$JS.ACK.hub.ACCHASH.STROM_EVENTS.c1.1.44.40.1700000000000000000.7":     44,
	} {
		seq, ts, err := ackSeqTime(reply)
		if err != nil || seq != want || ts.UnixNano() != 1700000000000000000 {
			t.Errorf("%s: %d %v %v", reply, seq, ts, err)
		}
	}
	for _, bad := range []string{"$JS.ACK.x.y", "$JS.ACK.S.c.1.notanumber.1.2.3"} {
		if _, _, err := ackSeqTime(bad); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}
