package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/test/logtest"
)

// A log and a data dir name their cluster; a data dir of another cluster
// is refused with an error naming both, and changes nothing; a new data
// dir on an existing log takes the log's cluster (a second stromd).
func TestDataDirOfAnotherClusterIsRefused(t *testing.T) {
	ns := logtest.StartNATS(t)
	ctx := context.Background()
	start := func(dir string) (*Stromd, error) {
		d, err := Start(ctx, Config{DataDir: dir, NATSURL: ns.ClientURL(), NoAgent: true, NoControllers: true})
		if err == nil {
			t.Cleanup(d.Stop)
		}
		return d, err
	}
	first := t.TempDir()
	d, err := start(first)
	if err != nil {
		t.Fatal(err)
	}
	id := d.ClusterID
	if got, _ := os.ReadFile(filepath.Join(first, "cluster-id")); strings.TrimSpace(string(got)) != id || id == "" {
		t.Fatalf("data dir cluster-id %q, stromd %q", got, id)
	}
	d.Stop()

	// Restart with its own data dir: same cluster.
	if d, err = start(first); err != nil || d.ClusterID != id {
		t.Fatalf("restart: %v, cluster %q want %q", err, d.ClusterID, id)
	}
	d.Stop()

	// A fresh data dir joins the log's cluster.
	second := t.TempDir()
	if d, err = start(second); err != nil || d.ClusterID != id {
		t.Fatalf("fresh data dir: %v, cluster %q want %q", err, d.ClusterID, id)
	}
	d.Stop()

	// A data dir of another cluster is refused, naming both.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "cluster-id"), []byte("OTHERCLUSTER\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = start(other)
	if events.ReasonOf(err) != events.ReasonForbidden || !strings.Contains(err.Error(), "OTHERCLUSTER") || !strings.Contains(err.Error(), id) {
		t.Fatalf("another cluster's data dir: %v, want Forbidden naming OTHERCLUSTER and %s", err, id)
	}
	for _, n := range []string{"admin.conf", "secret.key"} {
		if _, err := os.Stat(filepath.Join(other, n)); err == nil {
			t.Fatalf("a refused start wrote %s into the data dir", n)
		}
	}
	// The log still names the first cluster.
	_, js := logtest.Connect(t, ns)
	st, err := js.Stream(ctx, events.StreamName)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().Config.Metadata[events.ClusterIDKey]; got != id {
		t.Fatalf("log's cluster %q after a refused start, want %q", got, id)
	}

	// A garbled cluster-id file is an error naming the file.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "cluster-id"), []byte("two words\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := start(bad); err == nil || !strings.Contains(err.Error(), "cluster-id") {
		t.Fatalf("garbled cluster-id: %v", err)
	}
}
