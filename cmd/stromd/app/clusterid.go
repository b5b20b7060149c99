package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/strom-project/strom/events/fsutil"
)

// The data dir names the cluster it belongs to in <data-dir>/cluster-id,
// and the event log names its cluster in its stream's metadata
// (events.ClusterIDKey): a data dir of another cluster is refused at start
// instead of mixing two clusters' state (another secret key, other
// credentials, another log).

// readClusterID returns the data dir's cluster ID, "" when it has none
// yet.
func readClusterID(path string) (string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the cluster ID: %w", err)
	}
	id := strings.TrimSpace(string(data))
	if id == "" || strings.ContainsAny(id, " \t\n") {
		return "", fmt.Errorf("%s: %q is not a cluster ID (one word); restore it, or remove it to take the log's", path, id)
	}
	return id, nil
}

// writeClusterID records the data dir's cluster ID once, durably.
func writeClusterID(path, id string) error {
	if err := fsutil.WriteFileExclusive(path, []byte(id+"\n"), 0o644); err != nil {
		return fmt.Errorf("writing the cluster ID: %w", err)
	}
	return nil
}
