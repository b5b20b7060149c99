package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
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

// writeClusterID records the data dir's cluster ID once.
func writeClusterID(path, id string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing the cluster ID: %w", err)
	}
	if _, err := f.WriteString(id + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing the cluster ID: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing the cluster ID: %w", err)
	}
	return nil
}
