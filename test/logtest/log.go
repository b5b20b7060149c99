package logtest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
)

// StartNATS starts an in-process JetStream server on a random loopback
// port with its store in a temporary directory; it stops with the test.
func StartNATS(t testing.TB) *server.Server {
	t.Helper()
	s, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
		StoreDir: t.TempDir(), NoSigs: true, NoLog: true, MaxPayload: 8 << 20,
	})
	if err != nil {
		t.Fatalf("starting nats-server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatalf("nats-server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Connect opens a client connection to s and a JetStream context.
func Connect(t testing.TB, s *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream: %v", err)
	}
	return nc, js
}

// Log is a JetStream server with the event stream created, and a writer.
type Log struct {
	Server *server.Server
	Conn   *nats.Conn
	JS     jetstream.JetStream
	Writer *events.Writer
	Sealer *events.Sealer
}

// StartLog starts a server, creates Strom's streams and a writer.
func StartLog(t testing.TB, clk clock.PassiveClock) *Log {
	t.Helper()
	s := StartNATS(t)
	nc, js := Connect(t, s)
	ctx := context.Background()
	if _, err := events.EnsureStreams(ctx, js, events.StreamOptions{}); err != nil {
		t.Fatalf("%v", err)
	}
	sealer, err := events.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	w, err := events.NewWriter(ctx, events.WriterConfig{JetStream: js, Sealer: sealer, Clock: clk})
	if err != nil {
		t.Fatalf("%v", err)
	}
	return &Log{Server: s, Conn: nc, JS: js, Writer: w, Sealer: sealer}
}

// LastSeq is the stream's last sequence.
func (l *Log) LastSeq(t testing.TB) uint64 {
	t.Helper()
	seq, err := events.LastSeq(context.Background(), l.JS)
	if err != nil {
		t.Fatal(err)
	}
	return seq
}

// Eventually polls fn every 10 ms until it returns nil, failing the test
// with fn's last error after timeout.
func Eventually(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = fn(); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("still failing after %s: %v", timeout, err)
}
