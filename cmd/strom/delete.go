package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events/api"
)

func (c *cli) deleteCommand() *cobra.Command {
	var files []string
	var recursive, ignoreNotFound bool
	var cascade string
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
			cl, err := c.connect()
			if err != nil {
				return err
			}
			for _, it := range items {
				ctx, cancel := c.ctx()
				_, err := cl.Do(ctx, api.VerbDelete, &api.Request{Resource: it.resource, Namespace: it.ns, Name: it.name,
					Params: map[string]string{"propagation": cascade}})
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
	return cmd
}
