package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/spf13/cobra"

	"github.com/strom-project/strom/cmd/stromd/apiserver"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// replayVerbs are the commands `strom replay` runs against a file.
var replayVerbs = map[string]bool{"get": true, "describe": true, "history": true, "trace": true, "diff": true, "log": true, "stream": true}

func (c *cli) replayCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "replay --file FILE [--key KEYFILE] get|describe|history|trace|diff|log|stream ...",
		Short: "Answer get, describe, history, trace, diff, log and stream from an exported log, with no cluster",
		Long: `Load a file written by 'strom log export' and run one command against it,
with no cluster running and no admin.conf. The commands are the same code
as against a live cluster: the file is served by an in-process, read-only
API. -DURATION points count back from the recording's last event.

Secrets stay sealed unless --key names the cluster's key file
(DATA-DIR/secret.key); sealed ones show as placeholders, and their values
are redacted in log, history, diff and trace output in any case.`,
		Example: `  strom replay --file cluster.stromlog get pods -A
  strom replay --file cluster.stromlog describe deploy/web --at -1h
  strom replay --file cluster.stromlog --key /var/lib/strom/secret.key get secret db -o yaml
  strom replay --file cluster.stromlog trace pod/web-1 --why`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			file, key, rest, err := parseReplayArgs(args)
			if err != nil {
				return err
			}
			if file == "" {
				return fmt.Errorf("replay: --file is required")
			}
			if len(rest) == 0 || !replayVerbs[rest[0]] {
				return fmt.Errorf("replay: give a command to run: get, describe, history, trace, diff, log or stream")
			}
			return c.replay(file, key, rest)
		},
	}
}

// parseReplayArgs takes --file and --key (anywhere before the command)
// and leaves the rest for the command.
func parseReplayArgs(args []string) (file, key string, rest []string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--file", "-f", "--key":
			if !hasVal {
				if i+1 >= len(args) {
					return "", "", nil, fmt.Errorf("replay: %s needs a value", name)
				}
				i++
				val = args[i]
			}
			if name == "--key" {
				key = val
			} else {
				file = val
			}
		case "-h", "--help":
			return "", "", nil, fmt.Errorf("usage: strom replay --file FILE [--key KEYFILE] get|describe|history|trace|diff|log|stream ...")
		default:
			return file, key, args[i:], nil
		}
	}
	return file, key, nil, nil
}

func (c *cli) replay(file, keyFile string, args []string) error {
	var sealer *events.Sealer
	if keyFile != "" {
		key, err := os.ReadFile(keyFile)
		if err != nil {
			return fmt.Errorf("reading key: %w", err)
		}
		if sealer, err = events.NewSealer(key); err != nil {
			return err
		}
	}
	h, err := projections.LoadFile(file, sealer)
	if err != nil {
		return err
	}
	end := h.Header().LastTime
	if end.IsZero() {
		end = h.Header().ExportedAt
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nc, stop, err := serveReplay(ctx, h, file, func() time.Time { return end })
	if err != nil {
		return err
	}
	defer stop()
	sub := &cli{in: c.in, out: c.out, err: c.err, now: func() time.Time { return end }}
	sub.client = api.NewClient(nc, "replay")
	root := sub.rootCommand()
	root.SetArgs(args)
	root.SetIn(c.in)
	root.SetOut(c.out)
	root.SetErr(c.err)
	return root.Execute()
}

// serveReplay starts an in-process NATS server that listens on no port and
// a read-only API on it, answering from h.
func serveReplay(ctx context.Context, h projections.History, file string, now func() time.Time) (*nats.Conn, func(), error) {
	ns, err := server.NewServer(&server.Options{DontListen: true, NoSigs: true, NoLog: true, MaxPayload: 8 << 20})
	if err != nil {
		return nil, nil, fmt.Errorf("starting in-process NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, nil, fmt.Errorf("in-process NATS did not start")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		ns.Shutdown()
		return nil, nil, fmt.Errorf("connecting in-process: %w", err)
	}
	core := apiserver.NewCore(apiserver.Config{History: h, Now: now,
		Source: "file:" + file, Info: api.ClusterInfo{Version: version, NATS: "in-process (replay of " + file + ")"}})
	hs, err := apiserver.ServeNATS(ctx, nc, core, apiserver.NATSOptions{MaxInFlight: 64})
	if err != nil {
		nc.Close()
		ns.Shutdown()
		return nil, nil, err
	}
	return nc, func() {
		hs.Stop()
		nc.Close()
		ns.Shutdown()
		ns.WaitForShutdown()
	}, nil
}
