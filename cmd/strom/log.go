package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

type logOptions struct {
	follow     bool
	from, to   string
	kind       string
	actor      string
	output     string
	maxEvents  int
	pageEvents int
}

func (c *cli) logCommand() *cobra.Command {
	var o logOptions
	cmd := &cobra.Command{
		Use:   "log",
		Short: "The raw event log: one line per event (seq, time, type, object, actor, cause)",
		Example: `  strom log --from -10m
  strom log --kind pods -n shop --actor scheduler
  strom log --from 1200 --to 1300 -o json     # JSON lines, objects included (Secrets redacted)
  strom log -f                                 # follow new events
  strom log export > cluster.stromlog          # a file 'strom replay' answers from`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch o.output {
			case "", "json":
			default:
				return fmt.Errorf("--output %q: want json or nothing", o.output)
			}
			return c.printLog(&o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.follow, "follow", "f", false, "keep printing new events as they are appended")
	f.StringVar(&o.from, "from", "", "start here: SEQ (inclusive), RFC3339 time or -DURATION")
	f.StringVar(&o.to, "to", "", "stop here: SEQ (inclusive), RFC3339 time or -DURATION")
	f.StringVar(&o.kind, "kind", "", "only this kind (pods, deploy, ...)")
	f.StringVar(&o.actor, "actor", "", "only events written by this actor")
	f.StringVarP(&o.output, "output", "o", "", "json: one event per line, with its object")
	f.IntVar(&o.maxEvents, "max", 0, "print at most this many events (0: no limit)")
	f.IntVar(&o.pageEvents, "page", 1000, "events per request")
	cmd.AddCommand(c.exportCommand())
	return cmd
}

func (c *cli) printLog(o *logOptions) error {
	cl, err := c.connect()
	if err != nil {
		return err
	}
	params := map[string]string{
		"from": o.from, "to": o.to, "kind": o.kind, "namespace": c.namespace, "actor": o.actor,
		"limit": strconv.Itoa(o.pageEvents),
	}
	if o.output == "json" {
		params["objects"] = "true"
	}
	if o.follow {
		params["wait"] = "10"
	}
	enc := json.NewEncoder(c.out)
	printed := 0
	for {
		ctx, cancel := c.ctx()
		resp, err := cl.Do(ctx, api.VerbLog, &api.Request{Params: params})
		cancel()
		if err != nil {
			return err
		}
		var page api.LogPage
		if err := json.Unmarshal(resp.Data, &page); err != nil {
			return fmt.Errorf("log: malformed page: %w", err)
		}
		for i := range page.Events {
			e := &page.Events[i]
			if o.output == "json" {
				if err := enc.Encode(e); err != nil {
					return err
				}
			} else {
				fmt.Fprintln(c.out, formatLogLine(e))
			}
			if printed++; o.maxEvents > 0 && printed >= o.maxEvents {
				return nil
			}
		}
		if page.End || (!o.follow && page.Next > page.Last) {
			return nil
		}
		params["from"] = strconv.FormatUint(page.Next, 10)
	}
}

// formatLogLine is one event as a line: sequence, writer time, type,
// resource, namespace/name, actor and cause.
func formatLogLine(e *api.LogEntry) string {
	cause := e.Cause
	if cause == "" {
		cause = "-"
	}
	key := e.Name
	if e.Namespace != "" {
		key = e.Namespace + "/" + e.Name
	}
	return fmt.Sprintf("#%-7d %s  %-13s %-22s %-40s actor=%s cause=%s",
		e.Seq, e.Time.UTC().Format(time.RFC3339), e.Type, e.Resource, key, e.Actor, cause)
}

func (c *cli) exportCommand() *cobra.Command {
	var from, to, file, read string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the log (or a range of it) to a self-describing file for offline replay",
		Long: `Write the log to a file in the strom-log format: a header (format, version,
stream configuration, first and last sequence), the newest snapshot before
--from as the base state, then every event as stored. Secrets stay
encrypted: the key is not in the file; 'strom replay --key' opens them.
Everything after the header is s2-compressed.

Most of the log, up to its end, is read from a JetStream stream snapshot
(bulk, several times faster than a consumer); a short range, one ending
before the log does (--to), or a server that refuses the snapshot
(permissions, a nats-server before 2.15) is read with a consumer. --read
forces one or the other.`,
		Example: `  strom log export > cluster.stromlog
  strom log export --from -1h --file last-hour.stromlog
  strom replay --file cluster.stromlog get pods -A`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.connect()
			if err != nil {
				return err
			}
			var rep projections.ExportReport
			o := projections.ExportOptions{Report: &rep}
			switch read {
			case "auto":
			case projections.ExportReadSnapshot, projections.ExportReadConsumer:
				o.Read = read
			default:
				return fmt.Errorf("--read %q: want auto, snapshot or consumer", read)
			}
			if o.From, err = c.resolvePoint(cl, from, true); err != nil {
				return err
			}
			if o.To, err = c.resolvePoint(cl, to, false); err != nil {
				return err
			}
			var w io.Writer = c.out
			var f *os.File
			if file != "" && file != "-" {
				if f, err = os.Create(file); err != nil {
					return fmt.Errorf("creating %s: %w", file, err)
				}
				w = f
			}
			js, err := jetstream.New(cl.Conn())
			if err != nil {
				return err
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 24*time.Hour)
			defer cancel()
			h, err := projections.Export(ctx, js, w, o)
			if f != nil {
				if cerr := f.Close(); err == nil && cerr != nil {
					err = fmt.Errorf("closing %s: %w", file, cerr)
				}
				if err != nil {
					// No half-written export left behind to be mistaken
					// for a whole one.
					_ = os.Remove(file)
				}
			}
			if err != nil {
				return err
			}
			base := "none (the log starts at #1)"
			if h.BaseSeq > 0 {
				base = fmt.Sprintf("snapshot #%d", h.BaseSeq)
			} else if !h.HasBase {
				base = "MISSING: the log lost its head and no snapshot covers it; objects older than the file are unknown"
			}
			how := "read with a consumer"
			switch {
			case h.Count == 0:
				how = "nothing to read"
			case rep.Read == projections.ExportReadSnapshot:
				how = "read from a stream snapshot"
			case rep.NoSnapshot != "":
				how += " (no snapshot: " + rep.NoSnapshot + ")"
			}
			el := time.Since(start)
			fmt.Fprintf(c.err, "exported #%d..#%d: %d events, base %s, %s, in %s (%.0f events/s)\n",
				h.FirstSeq, h.LastSeq, h.Count, base, how, el.Round(time.Millisecond), float64(h.Count)/max(el.Seconds(), 1e-9))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "first point: SEQ, RFC3339 time or -DURATION (default: the oldest kept)")
	cmd.Flags().StringVar(&to, "to", "", "last point: SEQ, RFC3339 time or -DURATION (default: now)")
	cmd.Flags().StringVar(&file, "file", "", "write here instead of standard output")
	cmd.Flags().StringVar(&read, "read", "auto", "how to read the log: auto, snapshot (bulk) or consumer")
	return cmd
}

// resolvePoint asks the server for the sequence of a point; a start point
// given as a time means the first event after it.
func (c *cli) resolvePoint(cl *api.Client, p string, start bool) (uint64, error) {
	if p == "" {
		return 0, nil
	}
	if seq, err := strconv.ParseUint(p, 10, 64); err == nil {
		return seq, nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := cl.Do(ctx, api.VerbResolve, &api.Request{Params: map[string]string{"at": p}})
	if err != nil {
		return 0, err
	}
	var r api.ResolveResult
	if err := json.Unmarshal(resp.Data, &r); err != nil {
		return 0, fmt.Errorf("resolve: %w", err)
	}
	if start {
		return r.Seq + 1, nil
	}
	return r.Seq, nil
}
