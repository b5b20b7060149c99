package app

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Credentials are the passwords stromd generates at first start for the
// users of its embedded NATS server. They never change afterwards.
type Credentials struct {
	Stromd string `json:"stromd"` // the control plane itself
	Admin  string `json:"admin"`  // the CLI (admin.conf)
	Agent  string `json:"agent"`  // remote node agents (agent.conf)
}

func randomSecret() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loadOrCreateCredentials reads path, creating it (mode 0600) first if
// needed.
func loadOrCreateCredentials(path string) (*Credentials, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		var c Credentials
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("credentials %s: %w", path, err)
		}
		if c.Stromd == "" || c.Admin == "" || c.Agent == "" {
			return nil, fmt.Errorf("credentials %s: incomplete", path)
		}
		return &c, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("reading credentials: %w", err)
	}
	var c Credentials
	for _, p := range []*string{&c.Stromd, &c.Admin, &c.Agent} {
		if *p, err = randomSecret(); err != nil {
			return nil, fmt.Errorf("generating credentials: %w", err)
		}
	}
	data, _ = json.MarshalIndent(&c, "", "  ")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("creating credentials: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing credentials: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, err
	}
	return &c, f.Close()
}
