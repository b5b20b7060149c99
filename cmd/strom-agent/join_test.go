package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// strom-agent --server --token joins: it writes the node's own
// credential to --config, which then works as that node; a restart keeps
// it; a wrong token is refused with a message saying so, and writes
// nothing.
func TestJoinWritesTheNodesOwnCredential(t *testing.T) {
	d := clustertest.StartStromd(t)
	token, err := os.ReadFile(d.JoinToken)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx := context.Background()

	bad := &options{server: d.URL, token: "wrong", nodeName: "n2", config: filepath.Join(dir, "bad", "agent.conf")}
	if err := bad.join(ctx); err == nil || !strings.Contains(err.Error(), "join token") {
		t.Fatalf("wrong token: %v, want an error naming the join token", err)
	}
	if _, err := os.Stat(bad.config); !os.IsNotExist(err) {
		t.Fatalf("a refused join wrote %s: %v", bad.config, err)
	}
	if err := (&options{token: "x", nodeName: "n2"}).join(ctx); err == nil || !strings.Contains(err.Error(), "--server") {
		t.Fatalf("--token without --server: %v", err)
	}

	tokenFile := filepath.Join(dir, "join-token")
	if err := os.WriteFile(tokenFile, token, 0o600); err != nil {
		t.Fatal(err)
	}
	o := &options{server: d.URL, tokenFile: tokenFile, nodeName: "n2", config: filepath.Join(dir, "etc", "agent.conf")}
	if err := o.join(ctx); err != nil {
		t.Fatal(err)
	}
	cfg, err := api.LoadConfig(o.config)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(o.config); st.Mode().Perm() != 0o600 {
		t.Errorf("agent.conf mode %v", st.Mode().Perm())
	}
	want, _ := d.NodeConfig("n2")
	if cfg.User != want.User || cfg.Password != want.Password || cfg.Server != d.URL {
		t.Fatalf("joined config %+v, want node n2's credential", cfg)
	}
	node := clustertest.Dial(t, cfg)
	if _, err := node.Do(ctx, api.VerbApply, &api.Request{Object: []byte(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n2"}}`)}); err != nil {
		t.Fatalf("the joined node registering itself: %v", err)
	}
	// A restart does not join again: the file is left as it is.
	before, _ := os.Stat(o.config)
	o.tokenFile, o.token = "", "wrong"
	if err := o.join(ctx); err != nil {
		t.Fatalf("restart with a config of its own: %v", err)
	}
	if after, _ := os.Stat(o.config); !after.ModTime().Equal(before.ModTime()) {
		t.Error("a restart rewrote agent.conf")
	}
}
