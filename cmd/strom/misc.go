package main

import (
	"fmt"
	"io"
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
			resp, err := c.call(api.VerbInfo, &api.Request{})
			if err != nil {
				return err
			}
			i := resp.Info
			fmt.Fprintf(c.out, "Strom control plane is running at %s (version %s, view at #%d)\n", i.NATS, i.Version, i.ViewSeq)
			if i.KubeAPI != "" {
				fmt.Fprintf(c.out, "Kubernetes API is running at %s (kubectl: strom kubeconfig > ~/.kube/config)\n", i.KubeAPI)
			}
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

func (c *cli) kubeconfigCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "kubeconfig",
		Short: "Print the admin kubeconfig for kubectl, helm and client-go",
		Long: "Print the admin kubeconfig of the cluster's Kubernetes HTTPS API (stromd --api-listen),\n" +
			"e.g. strom kubeconfig > ~/.kube/config, or KUBECONFIG=<(strom kubeconfig) kubectl get pods.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var kc api.KubeconfigResult
			if err := c.callData(api.VerbKubeconfig, &api.Request{}, &kc); err != nil {
				return err
			}
			_, err := io.WriteString(c.out, kc.Kubeconfig)
			return err
		},
	}
}
