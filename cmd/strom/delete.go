package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events/api"
)

func (c *cli) deleteCommand() *cobra.Command {
	var files []string
	var recursive, ignoreNotFound, force, now bool
	var cascade string
	var grace int64
	cmd := &cobra.Command{
		Use:   "delete TYPE NAME... | TYPE/NAME... | -f FILENAME",
		Short: "Delete objects by name or by manifest",
		RunE: func(cmd *cobra.Command, args []string) error {
			type item struct{ resource, qualified, ns, name string }
			var items []item
			if len(files) > 0 {
				if len(args) > 0 {
					return fmt.Errorf("give either -f or TYPE NAME, not both")
				}
				ms, err := c.readManifests(files, recursive)
				if err != nil {
					return err
				}
				for _, m := range ms {
					ns := m.Object.GetNamespace()
					if ns == "" {
						ns = c.ns()
					}
					items = append(items, item{m.Kind.Resource, m.Kind.QualifiedName(), ns, m.Object.GetName()})
				}
			} else {
				targets, err := parseTargets(args)
				if err != nil {
					return err
				}
				for _, t := range targets {
					if len(t.names) == 0 {
						return fmt.Errorf("resource(s) were provided, but no name was specified")
					}
					for _, n := range t.names {
						items = append(items, item{t.kind.Resource, t.kind.QualifiedName(), c.ns(), n})
					}
				}
			}
			switch cascade {
			case "background", "foreground", "orphan":
			default:
				return fmt.Errorf("--cascade=%s: want background, foreground or orphan", cascade)
			}
			if now {
				if grace >= 0 {
					return fmt.Errorf("--now and --grace-period cannot be specified together")
				}
				grace = 1
			}
			params, err := deleteParams(cascade, grace, force)
			if err != nil {
				return err
			}
			if params["force"] == "true" {
				fmt.Fprintln(c.err, "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.")
			}
			cl, err := c.connect()
			if err != nil {
				return err
			}
			for _, it := range items {
				ctx, cancel := c.ctx()
				_, err := cl.Do(ctx, api.VerbDelete, &api.Request{Resource: it.resource, Namespace: it.ns, Name: it.name,
					Params: params})
				cancel()
				if err != nil {
					if ignoreNotFound && isNotFound(err) {
						continue
					}
					return err
				}
				fmt.Fprintf(c.out, "%s %q deleted\n", it.qualified, it.name)
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "delete the objects a manifest names")
	cmd.Flags().BoolVarP(&recursive, "recursive", "R", false, "process directories recursively")
	cmd.Flags().StringVar(&cascade, "cascade", "background", "what happens to dependents: background (deleted after the owner), foreground (deleted before the owner) or orphan (kept, without the owner reference)")
	cmd.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat objects that do not exist as deleted")
	cmd.Flags().Int64Var(&grace, "grace-period", -1, "seconds a pod is given to terminate; -1: its own terminationGracePeriodSeconds; 0 (with --force): removed at once")
	cmd.Flags().BoolVar(&now, "now", false, "signal pods to stop at once (--grace-period=1)")
	cmd.Flags().BoolVar(&force, "force", false, "remove at once, without waiting for the node to confirm the pod has stopped (implies --grace-period=0)")
	return cmd
}

// deleteParams are the delete verb's parameters for kubectl's flags:
// --grace-period=0 without --force means 1 s (kubectl's guard against
// an accidental immediate deletion), --force alone means 0, and 0 with
// --force removes the object at once.
func deleteParams(cascade string, grace int64, force bool) (map[string]string, error) {
	if grace < -1 {
		return nil, fmt.Errorf("--grace-period=%d: want -1 (the pod's own), 0 or more seconds", grace)
	}
	if grace == 0 && !force {
		grace = 1
	}
	if force && grace < 0 {
		grace = 0
	}
	p := map[string]string{"propagation": cascade}
	if grace >= 0 {
		p["grace"] = strconv.FormatInt(grace, 10)
	}
	if force && grace == 0 { // with a longer grace period --force changes nothing, as in kubectl
		p["force"] = "true"
	}
	return p, nil
}
