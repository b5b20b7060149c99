package main

import (
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
			cl, err := c.connect()
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			resp, err := cl.Do(ctx, api.VerbStream, &api.Request{})
			if err != nil {
				return err
			}
			s := resp.Stream
			if output == "json" {
				enc := json.NewEncoder(c.out)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			if output != "" {
				return fmt.Errorf("--output %q: want json or nothing", output)
			}
			printStreamInfo(c, s)
			return nil
		},
	}
	info.Flags().StringVarP(&output, "output", "o", "", "json")
	cmd.AddCommand(info)
	return cmd
}

func printStreamInfo(c *cli, s *api.StreamInfo) {
	w := c.out
	ts := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Local().Format(time.RFC3339)
	}
	maxBytes := "unlimited"
	if s.MaxBytes > 0 {
		maxBytes = fmt.Sprintf("%d bytes", s.MaxBytes)
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
