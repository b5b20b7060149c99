package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events/api"
)

// nodes returns the named node, or every node.
func (c *cli) nodes(name string) ([]string, error) {
	cl, err := c.connect()
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	if name != "" {
		// The node must exist: its error names it (not a timeout on a
		// subject nobody serves).
		if _, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: "nodes", Name: name}); err != nil {
			return nil, err
		}
		return []string{name}, nil
	}
	resp, err := cl.ListAll(ctx, api.Request{Resource: "nodes"})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, item := range resp.Items {
		var n corev1.Node
		if err := json.Unmarshal(item, &n); err == nil {
			out = append(out, n.Name)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the cluster has no nodes")
	}
	return out, nil
}

func (c *cli) imageCommand() *cobra.Command {
	var node string
	cmd := &cobra.Command{Use: "image", Short: "Manage images on nodes (for nodes without registry access)"}
	cmd.PersistentFlags().StringVar(&node, "node", "", "one node (default: every node)")
	imp := &cobra.Command{
		Use:   "import FILE.tar",
		Short: "Import an OCI or docker image archive into the nodes' containerd",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nodes, err := c.nodes(node)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				names, err := api.ImportImage(ctx, c.client.Conn(), n, f)
				cancel()
				f.Close()
				if err != nil {
					return fmt.Errorf("node %s: importing %s: %w", n, args[0], err)
				}
				for _, name := range names {
					fmt.Fprintf(c.out, "%s: imported %s\n", n, name)
				}
			}
			return nil
		},
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the images on the nodes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nodes, err := c.nodes(node)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(c.out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "NODE\tIMAGE\tDIGEST\tSIZE")
			for _, n := range nodes {
				ctx, cancel := c.ctx()
				r, err := api.ImagesCall(ctx, c.client.Conn(), n, api.ImagesRequest{Op: "list"})
				cancel()
				if err != nil {
					return fmt.Errorf("node %s: %w", n, err)
				}
				for _, im := range r.Images {
					digest := im.Digest
					if len(digest) > 19 {
						digest = digest[:19]
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", n, im.Name, digest, im.Size)
				}
			}
			return tw.Flush()
		},
	}
	rm := &cobra.Command{
		Use:   "rm IMAGE",
		Short: "Remove an image from the nodes",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			nodes, err := c.nodes(node)
			if err != nil {
				return err
			}
			for _, n := range nodes {
				ctx, cancel := c.ctx()
				_, err := api.ImagesCall(ctx, c.client.Conn(), n, api.ImagesRequest{Op: "remove", Ref: args[0]})
				cancel()
				if err != nil {
					return fmt.Errorf("node %s: %w", n, err)
				}
				fmt.Fprintf(c.out, "%s: removed %s\n", n, args[0])
			}
			return nil
		},
	}
	cmd.AddCommand(imp, ls, rm)
	return cmd
}
