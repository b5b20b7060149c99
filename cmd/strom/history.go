package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

func isNotFound(err error) bool { return events.IsNotFound(err) }

func (c *cli) historyCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "history TYPE/NAME | TYPE NAME",
		Short: "Every event of one object: sequence, time, type, actor and cause",
		Example: `  strom history deploy/web
  strom history pod web-7d4b9-x2x9k -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			if len(targets) != 1 || len(targets[0].names) != 1 {
				return fmt.Errorf("history takes exactly one object: TYPE/NAME or TYPE NAME")
			}
			t := targets[0]
			cl, err := c.connect()
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			resp, err := cl.Do(ctx, api.VerbHistory, &api.Request{Resource: t.kind.Resource, Namespace: c.ns(), Name: t.names[0], WithObjects: output == "json"})
			if err != nil {
				return err
			}
			switch output {
			case "json":
				enc := json.NewEncoder(c.out)
				for _, h := range resp.History {
					if err := enc.Encode(h); err != nil {
						return err
					}
				}
				return nil
			case "":
			default:
				return fmt.Errorf("--output %q: want json or nothing", output)
			}
			tw := tabwriter.NewWriter(c.out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tTIME\tTYPE\tGEN\tACTOR\tCAUSE")
			for _, h := range resp.History {
				gen := ""
				if h.Generation > 0 {
					gen = strconv.FormatInt(h.Generation, 10)
				}
				cause := h.Cause
				if cause == "" {
					cause = "-"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", h.Seq, h.Time.Local().Format(time.RFC3339), h.Type, gen, h.Actor, cause)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "json: one event per line, with the object")
	return cmd
}
