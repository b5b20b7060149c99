package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/cmd/strom/printers"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// target is one kind with the names asked for (none: list).
type target struct {
	kind  *objects.Kind
	names []string
}

// allKinds is what `get all` lists, as kubectl does.
var allKinds = []string{"pods", "replicationcontrollers", "services", "daemonsets", "deployments", "replicasets", "statefulsets", "jobs", "cronjobs"}

// parseTargets reads kubectl's ways of naming objects: KIND [NAME...],
// KIND/NAME..., KIND1,KIND2 and "all".
func parseTargets(args []string) ([]target, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("you must specify the type of resource to get. Valid resource types: %s", strings.Join(objects.Names(), ", "))
	}
	if strings.Contains(args[0], "/") {
		var out []target
		for _, a := range args {
			kindName, name, ok := strings.Cut(a, "/")
			if !ok || name == "" {
				return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'strom get resource/<resource_name>' instead of 'strom get resource resource/<resource_name>')")
			}
			k, err := objects.Lookup(kindName)
			if err != nil {
				return nil, err
			}
			out = append(out, target{kind: k, names: []string{name}})
		}
		return out, nil
	}
	var out []target
	for _, kn := range strings.Split(args[0], ",") {
		if kn == "all" {
			for _, a := range allKinds {
				k, _ := objects.Lookup(a)
				out = append(out, target{kind: k})
			}
			continue
		}
		k, err := objects.Lookup(kn)
		if err != nil {
			return nil, err
		}
		out = append(out, target{kind: k, names: args[1:]})
	}
	if len(out) > 1 && len(args) > 1 {
		return nil, fmt.Errorf("names cannot be given with several resource types; use TYPE/NAME")
	}
	return out, nil
}

type getOptions struct {
	output        string
	allNamespaces bool
	labels        string
	fields        string
	at            string
	noHeaders     bool
}

func (c *cli) getCommand() *cobra.Command {
	var o getOptions
	cmd := &cobra.Command{
		Use:   "get TYPE[,TYPE...] [NAME...] | TYPE/NAME...",
		Short: "Show objects, now or as they were at an earlier point (--at)",
		Example: `  strom get pods
  strom get deploy web -o yaml
  strom get pods -A -l app=web -o wide
  strom get svc --at -10m          # as the cluster was ten minutes ago
  strom get deploy web --at 1234   # right after event #1234`,
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			switch o.output {
			case "", "wide", "yaml", "json", "name":
			default:
				return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json, name, wide, yaml", o.output)
			}
			objs, err := c.fetch(targets, &o)
			if err != nil {
				return err
			}
			return c.print(c.out, targets, objs, &o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.output, "output", "o", "", "output format: wide, yaml, json or name")
	f.BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
	f.StringVarP(&o.labels, "selector", "l", "", "label selector, e.g. app=web,tier!=db")
	f.StringVar(&o.fields, "field-selector", "", "field selector: metadata.name, metadata.namespace, spec.nodeName, metadata.ownerReferences.uid")
	f.StringVar(&o.at, "at", "", "show the state at a point in history: SEQ, RFC3339 time, or -DURATION (e.g. -10m)")
	f.BoolVar(&o.noHeaders, "no-headers", false, "omit table headers")
	return cmd
}

// fetch gets named objects or lists them, per target, in order.
func (c *cli) fetch(targets []target, o *getOptions) ([][]objects.Object, error) {
	cl, err := c.connect()
	if err != nil {
		return nil, err
	}
	out := make([][]objects.Object, len(targets))
	for i, t := range targets {
		ctx, cancel := c.ctx()
		if len(t.names) == 0 {
			resp, err := cl.ListAll(ctx, api.Request{
				Resource: t.kind.Resource, Namespace: c.ns(), AllNamespaces: o.allNamespaces,
				LabelSelector: o.labels, FieldSelector: o.fields, At: o.at,
			})
			cancel()
			if err != nil {
				return nil, err
			}
			for _, item := range resp.Items {
				obj, err := objects.DecodeStored(t.kind, item)
				if err != nil {
					return nil, err
				}
				out[i] = append(out[i], obj)
			}
			continue
		}
		for _, name := range t.names {
			resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: t.kind.Resource, Namespace: c.ns(), Name: name, At: o.at})
			if err != nil {
				cancel()
				return nil, err
			}
			obj, err := objects.DecodeStored(t.kind, resp.Object)
			if err != nil {
				cancel()
				return nil, err
			}
			out[i] = append(out[i], obj)
		}
		cancel()
	}
	return out, nil
}

func (c *cli) print(w io.Writer, targets []target, objs [][]objects.Object, o *getOptions) error {
	var flat []objects.Object
	named := false
	for i, t := range targets {
		flat = append(flat, objs[i]...)
		named = named || len(t.names) > 0
	}
	single := len(targets) == 1 && len(targets[0].names) == 1
	switch o.output {
	case "yaml":
		return printers.PrintYAML(w, flat, !single)
	case "json":
		return printers.PrintJSON(w, flat, !single)
	case "name":
		return printers.PrintName(w, flat)
	}
	if len(flat) == 0 {
		fmt.Fprintln(c.err, printers.NoResources(c.ns(), o.allNamespaces))
		return nil
	}
	opts := printers.TableOptions{
		Wide: o.output == "wide", ShowNamespace: o.allNamespaces, NoHeaders: o.noHeaders,
		Now: c.now(), ShowKind: len(targets) > 1,
	}
	first := true
	for i := range targets {
		if len(objs[i]) == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		if err := printers.PrintTable(w, objs[i], opts); err != nil {
			return err
		}
	}
	return nil
}
