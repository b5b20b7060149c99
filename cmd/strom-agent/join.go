package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/strom-project/strom/events/api"
)

// join asks stromd for this node's own credential with the cluster's
// join token and writes it to --config, which the agent then uses. A
// config that already holds this node's credential is kept (a restarted
// agent does not join again). Without --token it does nothing.
func (o *options) join(ctx context.Context) error {
	token := o.token
	if o.tokenFile != "" {
		data, err := os.ReadFile(o.tokenFile)
		if err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
		token = strings.TrimSpace(string(data))
	}
	if token == "" {
		if o.server != "" {
			return errors.New("--server needs --token or --token-file")
		}
		return nil
	}
	if o.server == "" {
		return errors.New("--token needs --server nats://HOST:PORT")
	}
	if c, err := api.LoadConfig(o.config); err == nil && c.Server == o.server && c.User == api.NodeUser(o.nodeName) {
		return nil
	}
	cl, err := api.Dial(&api.Config{Server: o.server, User: api.JoinUser, Password: token})
	if err != nil {
		return fmt.Errorf("joining %s (is the join token right?): %w", o.server, err)
	}
	defer cl.Close()
	resp, err := cl.Do(ctx, api.VerbJoin, &api.Request{Params: map[string]string{"node": o.nodeName}})
	if err != nil {
		return fmt.Errorf("joining %s as node %s: %w", o.server, o.nodeName, err)
	}
	var res api.JoinResult
	if err := json.Unmarshal(resp.Data, &res); err != nil {
		return fmt.Errorf("joining: malformed answer: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(o.config), 0o700); err != nil {
		return err
	}
	return api.WriteConfig(o.config, &api.Config{Server: o.server, User: res.User, Password: res.Password})
}
