package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events/api"
)

func (c *cli) diffCommand() *cobra.Command {
	var from, to, output string
	var showMeta bool
	cmd := &cobra.Command{
		Use:   "diff --from POINT [--to POINT] [KIND[/NAME] | KIND NAME]",
		Short: "What changed between two points of history: objects created, deleted and changed, field by field",
		Example: `  strom diff --from -1h                   # everything that changed in the last hour
  strom diff --from 1200 --to 1300 deploy  # deployments in every namespace
  strom diff --from -10m deploy/web -n shop -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &api.Request{Namespace: c.namespace, Params: map[string]string{"from": from, "to": to}}
			if showMeta {
				req.Params["showMetadata"] = "true"
			}
			switch len(args) {
			case 0:
			case 1:
				kind, name, _ := strings.Cut(args[0], "/")
				req.Resource, req.Name = kind, name
			case 2:
				req.Resource, req.Name = args[0], args[1]
			default:
				return fmt.Errorf("diff takes at most one object: KIND, KIND/NAME or KIND NAME")
			}
			if from == "" {
				return fmt.Errorf("--from is required: SEQ, RFC3339 time or -DURATION")
			}
			switch output {
			case "", "json":
			default:
				return fmt.Errorf("--output %q: want json or nothing", output)
			}
			var d api.DiffResult
			if err := c.callData(api.VerbDiff, req, &d); err != nil {
				return err
			}
			if output == "json" {
				return c.printJSON(&d)
			}
			printDiff(c, &d)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "the earlier point: SEQ, RFC3339 time or -DURATION (required)")
	f.StringVar(&to, "to", "", "the later point (default: now)")
	f.BoolVar(&showMeta, "show-metadata", false, "also show resourceVersion, generation and managedFields changes")
	f.StringVarP(&output, "output", "o", "", "json")
	return cmd
}

func objectLabel(resource, ns, name string) string {
	if ns == "" {
		return resource + " " + name
	}
	return resource + " " + ns + "/" + name
}

func printDiff(c *cli, d *api.DiffResult) {
	w := c.out
	fmt.Fprintf(w, "Diff #%d → #%d\n", d.From, d.To)
	var created, deleted, changed int
	for _, o := range d.Objects {
		label := objectLabel(o.Resource, o.Namespace, o.Name)
		switch o.Change {
		case api.ChangeCreated:
			created++
			fmt.Fprintf(w, "+ %s (created, now #%d)\n", label, o.ToSeq)
		case api.ChangeDeleted:
			deleted++
			fmt.Fprintf(w, "- %s (deleted, was #%d)\n", label, o.FromSeq)
		default:
			changed++
			fmt.Fprintf(w, "~ %s (#%d → #%d)\n", label, o.FromSeq, o.ToSeq)
			for _, f := range o.Fields {
				switch f.Op {
				case "+":
					fmt.Fprintf(w, "    + %s: %s\n", f.Path, jsonText(f.New))
				case "-":
					fmt.Fprintf(w, "    - %s: %s\n", f.Path, jsonText(f.Old))
				default:
					fmt.Fprintf(w, "    ~ %s: %s → %s\n", f.Path, jsonText(f.Old), jsonText(f.New))
				}
			}
		}
	}
	fmt.Fprintf(w, "%d created, %d deleted, %d changed\n", created, deleted, changed)
}

// jsonText renders a JSON value compactly, without the HTML escaping
// (\u003c for <) that the wire encoding adds.
func jsonText(raw json.RawMessage) string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return string(raw)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return string(raw)
	}
	return strings.TrimRight(b.String(), "\n")
}
