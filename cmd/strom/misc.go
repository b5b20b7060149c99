package main

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

// version is set at build time.
var version = "dev"

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the client version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(c.out, "Client Version: %s\n", version)
			return nil
		},
	}
}

func (c *cli) clusterInfoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "cluster-info",
		Short: "Where the control plane and cluster DNS are",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := c.connect()
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			resp, err := cl.Do(ctx, api.VerbInfo, &api.Request{})
			if err != nil {
				return err
			}
			i := resp.Info
			fmt.Fprintf(c.out, "Strom control plane is running at %s (version %s, view at #%d)\n", i.NATS, i.Version, i.ViewSeq)
			if i.DNS != "" {
				fmt.Fprintf(c.out, "Cluster DNS is running at %s\n", i.DNS)
			}
			if i.ServiceCIDR != "" {
				fmt.Fprintf(c.out, "Service CIDR: %s\n", i.ServiceCIDR)
			}
			return nil
		},
	}
}

func (c *cli) apiResourcesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "api-resources",
		Short: "The kinds Strom stores, with their short names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks := objects.All()
			sort.Slice(ks, func(i, j int) bool { return ks[i].Resource < ks[j].Resource })
			tw := tabwriter.NewWriter(c.out, 0, 8, 3, ' ', 0)
			fmt.Fprintln(tw, "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND")
			for _, k := range ks {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\n", k.Resource, strings.Join(k.ShortNames, ","), k.APIVersion(), k.Namespaced, k.Kind)
			}
			return tw.Flush()
		},
	}
}
