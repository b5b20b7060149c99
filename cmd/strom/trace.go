package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events/api"
)

func (c *cli) traceCommand() *cobra.Command {
	var why bool
	var seq uint64
	var output string
	cmd := &cobra.Command{
		Use:   "trace KIND/NAME | KIND NAME",
		Short: "The causation tree of an object: what led to it and what it caused, with actors and delays",
		Long: `Follow the events' cause links. Without --why: the chain of causes that
created the object (back to the user's request), then each of its events
with everything it caused (a Deployment's apply → its ReplicaSet → pods →
scheduled → started). With --why: only the chain behind one event, by
default the object's last (for a deleted pod: why it was deleted).`,
		Example: `  strom trace deploy/web
  strom trace pod web-7d4b9-x2x9k --why
  strom trace pod/web-1 --why --seq 1234 -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			if len(targets) != 1 || len(targets[0].names) != 1 {
				return fmt.Errorf("trace takes exactly one object: KIND/NAME or KIND NAME")
			}
			switch output {
			case "", "json":
			default:
				return fmt.Errorf("--output %q: want json or nothing", output)
			}
			req := &api.Request{Resource: targets[0].kind.Resource, Namespace: c.ns(), Name: targets[0].names[0], Params: map[string]string{}}
			if why {
				req.Params["why"] = "true"
			}
			if seq > 0 {
				req.Params["seq"] = strconv.FormatUint(seq, 10)
			}
			var t api.TraceResult
			if err := c.callData(api.VerbTrace, req, &t); err != nil {
				return err
			}
			if output == "json" {
				return c.printJSON(&t)
			}
			printTrace(c.out, &t, why)
			return nil
		},
	}
	cmd.Flags().BoolVar(&why, "why", false, "only the chain of causes behind one event (default: the last)")
	cmd.Flags().Uint64Var(&seq, "seq", 0, "the event to explain (default: the first, or the last with --why)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "json")
	return cmd
}

func stepLine(s *api.TraceStep, first bool) string {
	when := s.Time.UTC().Format(time.RFC3339)
	if !first {
		when = "+" + time.Duration(s.Delta*float64(time.Second)).Round(time.Millisecond).String()
	}
	return fmt.Sprintf("#%d %s %s %s by %s", s.Seq, when, s.Type, objectLabel(s.Resource, s.Namespace, s.Name), s.Actor)
}

func describeRoot(root, missing string) string {
	switch {
	case missing != "":
		return "event " + missing + " (no longer in the log)"
	case strings.HasPrefix(root, "req:"):
		return "request " + root
	case root == "":
		return "(no recorded cause)"
	}
	return "cause " + strconv.Quote(root)
}

func printTrace(w io.Writer, t *api.TraceResult, why bool) {
	label := objectLabel(t.Resource, t.Namespace, t.Name)
	if len(t.Why) > 0 {
		last := t.Why[len(t.Why)-1]
		fmt.Fprintf(w, "Why %s: event #%d (%s) was caused by\n", label, last.Seq, last.Type)
		fmt.Fprintf(w, "  %s\n", describeRoot(t.Root, t.Missing))
		for i := range t.Why {
			fmt.Fprintf(w, "  %s└─ %s\n", strings.Repeat("   ", i), stepLine(&t.Why[i], i == 0))
		}
	}
	if why {
		return
	}
	fmt.Fprintf(w, "Events of %s and what they caused:\n", label)
	for _, n := range t.Events {
		fmt.Fprintf(w, "%s\n", stepLine(&n.TraceStep, true))
		printTree(w, n.Children, "")
	}
	if t.Truncated {
		fmt.Fprintln(w, "(truncated: the tree is larger than the limit)")
	}
}

func printTree(w io.Writer, nodes []*api.TraceNode, indent string) {
	for i, n := range nodes {
		branch, next := "├─ ", "│  "
		if i == len(nodes)-1 {
			branch, next = "└─ ", "   "
		}
		fmt.Fprintf(w, "%s%s%s\n", indent, branch, stepLine(&n.TraceStep, false))
		printTree(w, n.Children, indent+next)
	}
}
