package clustertest

import (
	"context"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events/api"
)

// StartStromd runs a whole control plane in-process, without an agent,
// with its data in a temporary directory. It stops with the test.
func StartStromd(t testing.TB, mutate ...func(*app.Config)) *app.Stromd {
	t.Helper()
	cfg := app.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0", NoAgent: true, NodeName: "test", Logger: zaptest.NewLogger(t, zaptest.Level(zap.InfoLevel))}
	for _, m := range mutate {
		m(&cfg)
	}
	d, err := app.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("starting stromd: %v", err)
	}
	t.Cleanup(d.Stop)
	return d
}

// AdminClient dials a stromd with its admin.conf, as the CLI does.
func AdminClient(t testing.TB, d *app.Stromd) *api.Client {
	t.Helper()
	cfg, err := api.LoadConfig(d.AdminConfig)
	if err != nil {
		t.Fatal(err)
	}
	return Dial(t, cfg)
}

// Dial connects with a client config; the client closes with the test.
func Dial(t testing.TB, cfg *api.Config) *api.Client {
	t.Helper()
	c, err := api.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// NodeClient dials a stromd with node name's own credential, as that
// node's agent does after joining. Its requests go through the node
// authorizer: it may act only for its node.
func NodeClient(t testing.TB, d *app.Stromd, name string) *api.Client {
	t.Helper()
	cfg, err := d.NodeConfig(name)
	if err != nil {
		t.Fatal(err)
	}
	return Dial(t, cfg)
}
