package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/strom-project/strom/events/fsutil"

	"github.com/nats-io/nats.go"
	"sigs.k8s.io/yaml"

	"github.com/strom-project/strom/events"
)

// Config is a client configuration file (admin.conf).
type Config struct {
	// Server is the NATS URL, e.g. nats://127.0.0.1:4222.
	Server   string `json:"server"`
	User     string `json:"user"`
	Password string `json:"password,omitempty"`
	// CredsFile is a NATS .creds file, for an external NATS with JWT auth.
	CredsFile string `json:"credsFile,omitempty"`
	// DNS is the cluster DNS address, for cluster-info.
	DNS string `json:"dns,omitempty"`
}

// EnvConfig names the environment variable holding the config path.
const EnvConfig = "STROM_CONFIG"

// DefaultDataDir is stromd's default data directory.
const DefaultDataDir = "/var/lib/strom"

// ConfigPath picks the client config: the flag, else $STROM_CONFIG, else
// ~/.strom/config if it exists, else /var/lib/strom/admin.conf.
func ConfigPath(flag string) string {
	if flag != "" {
		return flag
	}
	if p := os.Getenv(EnvConfig); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".strom", "config")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return filepath.Join(DefaultDataDir, "admin.conf")
}

// LoadConfig reads a client config file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading client config %s: %w (start stromd, or point --config or $%s at its admin.conf)", path, err, EnvConfig)
	}
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("client config %s: %w", path, err)
	}
	if c.Server == "" || c.User == "" {
		return nil, fmt.Errorf("client config %s: server and user are required", path)
	}
	return &c, nil
}

// WriteConfig writes a client config with mode 0600, atomically.
func WriteConfig(path string, c *Config) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return err
	}
	return fsutil.WriteFile(path, data, 0o600)
}

// Client calls the API. It remembers the sequence of its last write and
// makes every read wait for it, so a client always reads its own writes.
type Client struct {
	nc      *nats.Conn
	user    string
	owned   bool
	lastSeq atomic.Uint64
	Timeout time.Duration
}

// Dial connects with a client config.
func Dial(c *Config) (*Client, error) {
	// Replies come under the user's own inbox prefix, the only one its
	// NATS permissions let it subscribe to.
	opts := []nats.Option{nats.Name("strom " + c.User), nats.MaxReconnects(-1), nats.CustomInboxPrefix(InboxPrefix(c.User))}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	} else {
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	}
	nc, err := nats.Connect(c.Server, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.Server, err)
	}
	cl := NewClient(nc, c.User)
	cl.owned = true
	return cl, nil
}

// NewClient uses an existing connection; user must be the connection's
// user, since the API's subjects carry it.
func NewClient(nc *nats.Conn, user string) *Client {
	return &Client{nc: nc, user: user, Timeout: 30 * time.Second}
}

// Conn is the underlying NATS connection.
func (c *Client) Conn() *nats.Conn { return c.nc }

// Close closes a connection Dial opened.
func (c *Client) Close() {
	if c.owned {
		c.nc.Close()
	}
}

// LastSeq is the sequence of this client's last write.
func (c *Client) LastSeq() uint64 { return c.lastSeq.Load() }

// Do sends one request and returns the response, or the classified error
// it carries.
func (c *Client) Do(ctx context.Context, verb string, req *Request) (*Response, error) {
	if req.MinSeq == 0 {
		req.MinSeq = c.lastSeq.Load()
	}
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	msg, err := c.nc.RequestWithContext(ctx, Subject(verb, c.user), data)
	if errors.Is(err, nats.ErrNoResponders) {
		return nil, events.Errorf(events.ReasonInternal, "stromd is not answering on %s (is it running?)", c.nc.ConnectedUrlRedacted())
	}
	if err != nil {
		return nil, fmt.Errorf("%s request: %w", verb, err)
	}
	var resp Response
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, fmt.Errorf("%s: malformed response: %w", verb, err)
	}
	if resp.Error != nil {
		return nil, resp.Error.Err()
	}
	switch verb {
	case VerbApply, VerbCreate, VerbUpdate, VerbStatus, VerbDelete:
		for {
			old := c.lastSeq.Load()
			if resp.Seq <= old || c.lastSeq.CompareAndSwap(old, resp.Seq) {
				break
			}
		}
	}
	return &resp, nil
}

// ListAll lists every page of a list request.
func (c *Client) ListAll(ctx context.Context, req Request) (*Response, error) {
	if req.Limit == 0 {
		req.Limit = 2000
	}
	var all *Response
	for {
		resp, err := c.Do(ctx, VerbList, &req)
		if err != nil {
			return nil, err
		}
		if all == nil {
			all = resp
		} else {
			all.Items = append(all.Items, resp.Items...)
		}
		if resp.Continue == "" {
			all.Continue = ""
			return all, nil
		}
		req.Continue = resp.Continue
		if req.At == "" && req.MinSeq < resp.Seq {
			req.MinSeq = resp.Seq // later pages at least as new as the first
		}
	}
}
