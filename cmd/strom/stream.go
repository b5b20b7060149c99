package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events/api"
)

func (c *cli) streamCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "stream", Short: "Inspect the event log"}
	var output string
	info := &cobra.Command{
		Use:   "info",
		Short: "The log's size, range, retention, object counts and consumers with their lag",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := c.call(api.VerbStream, &api.Request{})
			if err != nil {
				return err
			}
			s := resp.Stream
			var extra api.StreamExtra
			if len(resp.Data) > 0 {
				if err := json.Unmarshal(resp.Data, &extra); err != nil {
					return fmt.Errorf("stream info: malformed extra: %w", err)
				}
			}
			if output == "json" {
				return c.printJSON(struct {
					*api.StreamInfo
					Replay api.StreamExtra `json:"replay"`
				}{s, extra})
			}
			if output != "" {
				return fmt.Errorf("--output %q: want json or nothing", output)
			}
			printStreamInfo(c, s, &extra)
			return nil
		},
	}
	info.Flags().StringVarP(&output, "output", "o", "", "json")
	cmd.AddCommand(info, c.streamCheckCommand())
	return cmd
}

func printStreamInfo(c *cli, s *api.StreamInfo, x *api.StreamExtra) {
	w := c.out
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format(time.RFC3339)
	}
	maxBytes := "unlimited"
	if s.MaxBytes > 0 {
		maxBytes = fmt.Sprintf("%d bytes (%.1f GiB)", s.MaxBytes, float64(s.MaxBytes)/(1<<30))
	}
	maxAge := s.MaxAge
	if maxAge == "0s" {
		maxAge = "unlimited"
	}
	fmt.Fprintf(w, "Stream:        %s\n", s.Name)
	fmt.Fprintf(w, "Subjects:      %s\n", strings.Join(s.Subjects, ", "))
	fmt.Fprintf(w, "Storage:       %s, %d replica(s)\n", s.Storage, s.Replicas)
	fmt.Fprintf(w, "Retention:     max age %s, max size %s\n", maxAge, maxBytes)
	fmt.Fprintf(w, "Events:        %d (%d bytes)\n", s.Messages, s.Bytes)
	fmt.Fprintf(w, "First:         #%d at %s\n", s.FirstSeq, ts(s.FirstTime))
	fmt.Fprintf(w, "Last:          #%d at %s\n", s.LastSeq, ts(s.LastTime))
	fmt.Fprintf(w, "Subjects used: %d (one per object ever written)\n", s.Objects)
	fmt.Fprintf(w, "View applied:  #%d\n", s.ViewSeq)
	snaps := make([]string, len(s.Snapshots))
	for i, sn := range s.Snapshots {
		snaps[i] = fmt.Sprintf("#%d", sn)
	}
	if len(snaps) == 0 {
		snaps = []string{"none"}
	}
	fmt.Fprintf(w, "Snapshots:     %s\n", strings.Join(snaps, " "))
	switch {
	case !x.ReplayableOK:
		fmt.Fprintf(w, "Replayable:    nothing (the log starts at #%d and no snapshot covers what came before)\n", s.FirstSeq)
	case x.Replayable == 0:
		fmt.Fprintf(w, "Replayable:    from the beginning (#0, the empty cluster)\n")
	case !x.ReplayableTime.IsZero():
		fmt.Fprintf(w, "Replayable:    from #%d (%s)\n", x.Replayable, ts(x.ReplayableTime))
	default:
		fmt.Fprintf(w, "Replayable:    from #%d (snapshot); --at before it answers Gone\n", x.Replayable)
	}
	if x.Source != "" && x.Source != "live" {
		fmt.Fprintf(w, "Source:        %s\n", x.Source)
	}
	fmt.Fprintln(w, "\nObjects:")
	kinds := make([]string, 0, len(s.Kinds))
	for k := range s.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	for _, k := range kinds {
		fmt.Fprintf(tw, "  %s\t%d\n", k, s.Kinds[k])
	}
	_ = tw.Flush()
	fmt.Fprintln(w, "\nConsumers:")
	tw = tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tFILTER\tDELIVERED\tPENDING\tLAG\tLAST ACTIVE")
	for _, cons := range s.Consumers {
		fmt.Fprintf(tw, "  %s\t%s\t#%d\t%d\t%.1fs\t%s\n", cons.Name, strings.Join(cons.Filter, ","), cons.Delivered, cons.Pending, cons.LagSeconds, ts(cons.LastActive))
	}
	_ = tw.Flush()
}

func (c *cli) streamCheckCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Validate the log: every event decodes, sequences and cause links are consistent, snapshots match a replay",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.connect()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), max(c.timeout, 10*time.Minute))
			defer cancel()
			resp, err := cl.Do(ctx, api.VerbCheck, &api.Request{})
			if err != nil {
				return err
			}
			var r api.CheckReport
			if err := json.Unmarshal(resp.Data, &r); err != nil {
				return fmt.Errorf("check: malformed report: %w", err)
			}
			if output == "json" {
				if err := c.printJSON(&r); err != nil {
					return err
				}
			} else {
				printCheck(c, &r)
			}
			if !r.OK() {
				return fmt.Errorf("the log has %d problem(s)", len(r.Problems))
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json")
	return cmd
}

func printCheck(c *cli, r *api.CheckReport) {
	w := c.out
	fmt.Fprintf(w, "Events:     %d read (#%d..#%d)\n", r.Events, r.FirstSeq, r.LastSeq)
	fmt.Fprintf(w, "Causes:     %d by an earlier event, %d by a request, %d other, %d none\n", r.CausedByEvent, r.CausedByRequest, r.CausedOther, r.NoCause)
	var snaps []string
	for _, s := range r.Snapshots {
		snaps = append(snaps, fmt.Sprintf("#%d %s", s.Seq, s.Status))
	}
	if len(snaps) == 0 {
		snaps = []string{"none"}
	}
	fmt.Fprintf(w, "Snapshots:  %s\n", strings.Join(snaps, ", "))
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", m)
	}
	if r.OK() {
		fmt.Fprintln(w, "OK")
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
}
