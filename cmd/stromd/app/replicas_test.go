package app

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/test/logtest"
)

func TestReplicasFor(t *testing.T) {
	tests := []struct {
		name          string
		set           int
		clustered     bool
		servers, want int
		warn          bool
	}{
		{"one server", 0, false, 1, 1, false},
		{"cluster of 3", 0, true, 3, 3, false},
		{"cluster of 5 keeps 3", 0, true, 5, 3, false},
		{"cluster of 2", 0, true, 2, 2, true},
		{"explicit 1 on a cluster", 1, true, 3, 1, true},
		{"explicit 3", 3, true, 3, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warning := replicasFor(tt.set, tt.clustered, tt.servers)
			if got != tt.want || (warning != "") != tt.warn {
				t.Errorf("replicas %d warning %q, want %d, warning %v", got, warning, tt.want, tt.warn)
			}
		})
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts n clustered nats-servers with JetStream on
// loopback and returns them once JetStream has a meta leader.
func startCluster(t *testing.T, n int) []*server.Server {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freePort(t)
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	var out []*server.Server
	for i := 0; i < n; i++ {
		s, err := server.NewServer(&server.Options{
			ServerName: fmt.Sprintf("s%d", i), Host: "127.0.0.1", Port: server.RANDOM_PORT, JetStream: true,
			StoreDir: t.TempDir(), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "strom-test", Host: "127.0.0.1", Port: ports[i]},
			Routes:  server.RoutesFromStr(strings.Join(routes, ",")),
		})
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		out = append(out, s)
	}
	for _, s := range out {
		if !s.ReadyForConnections(10 * time.Second) {
			t.Fatal("nats-server not ready")
		}
	}
	nc, err := nats.Connect(out[0].ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	logtest.Eventually(t, 30*time.Second, func() error {
		_, err := js.AccountInfo(context.Background())
		return err
	})
	return out
}

// On a 3-server NATS cluster the log gets 3 replicas without being told;
// told 1, stromd says what that risks.
func TestReplicasDefaultToTheClusterSize(t *testing.T) {
	cluster := startCluster(t, 3)
	start := func(replicas int) (*Stromd, *observer.ObservedLogs) {
		core, logs := observer.New(zapcore.InfoLevel)
		d, err := Start(context.Background(), Config{DataDir: t.TempDir(), NATSURL: cluster[0].ClientURL(), NoAgent: true, NoControllers: true,
			Replicas: replicas, Logger: zap.New(core)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(d.Stop)
		return d, logs
	}
	d, logs := start(0)
	info, err := d.JetStream().Stream(context.Background(), events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if r := info.CachedInfo().Config.Replicas; r != 3 {
		t.Fatalf("stream replicas %d on a cluster of 3, want 3", r)
	}
	if w := logs.FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("replica").Len(); w != 0 {
		t.Fatalf("%d replica warnings with 3 replicas", w)
	}
	d.Stop()
	_, logs = start(1)
	if w := logs.FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("keeps 1 replica(s) on a NATS cluster of 3").Len(); w != 1 {
		t.Fatalf("no warning for 1 replica on a cluster of 3: %v", logs.All())
	}
}
