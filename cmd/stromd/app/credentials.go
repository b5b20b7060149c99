package app

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/strom-project/strom/events/fsutil"
)

// Credentials are the secrets stromd generates at first start for its
// embedded NATS server. They never change afterwards.
type Credentials struct {
	Stromd string `json:"stromd"` // the control plane itself
	Admin  string `json:"admin"`  // the CLI (admin.conf)
	// NodeKey derives every node's own password (NodePassword), so a
	// node's credential works for that node only and stromd keeps no list
	// of them.
	NodeKey string `json:"nodeKey"`
	// JoinToken lets a machine ask for its node's credential
	// (<data-dir>/join-token).
	JoinToken string `json:"joinToken"`
}

// NodePassword is node name's password: an HMAC of its name under the
// node key.
func (c *Credentials) NodePassword(node string) string {
	m := hmac.New(sha256.New, []byte(c.NodeKey))
	m.Write([]byte("strom node credential\x00" + node))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loadOrCreateCredentials reads path, creating it (mode 0600) first if
// needed. A file of an older stromd (with a shared agent password and no
// node key or join token) gets the new secrets added; its agent password
// is dropped, so the old shared agent credential stops working.
func loadOrCreateCredentials(path string) (*Credentials, error) {
	var c Credentials
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("credentials %s: %w", path, err)
		}
		if c.Stromd == "" || c.Admin == "" {
			return nil, fmt.Errorf("credentials %s: incomplete (no stromd or admin password)", path)
		}
		if c.NodeKey != "" && c.JoinToken != "" {
			return &c, nil
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("reading credentials: %w", err)
	}
	for _, p := range []*string{&c.Stromd, &c.Admin, &c.NodeKey, &c.JoinToken} {
		if *p != "" {
			continue
		}
		if *p, err = randomSecret(); err != nil {
			return nil, fmt.Errorf("generating credentials: %w", err)
		}
	}
	data, _ = json.MarshalIndent(&c, "", "  ")
	if err := writeFileAtomic(path, data); err != nil {
		return nil, fmt.Errorf("writing credentials: %w", err)
	}
	return &c, nil
}

// writeFileAtomic writes data to path with mode 0600, durably: a crash or
// a power loss leaves the old file or the new one.
func writeFileAtomic(path string, data []byte) error {
	return fsutil.WriteFile(path, data, 0o600)
}
