package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

func (c *cli) cordonCommand() *cobra.Command {
	return &cobra.Command{
		Use: "cordon NODE", Short: "Mark a node unschedulable", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return c.setUnschedulable(args[0], true) },
	}
}

func (c *cli) uncordonCommand() *cobra.Command {
	return &cobra.Command{
		Use: "uncordon NODE", Short: "Mark a node schedulable again", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return c.setUnschedulable(args[0], false) },
	}
}

func (c *cli) setUnschedulable(name string, on bool) error {
	cl, err := c.connect()
	if err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	defer cancel()
	for attempt := 0; ; attempt++ {
		resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: "nodes", Name: name})
		if err != nil {
			return err
		}
		var n corev1.Node
		if err := json.Unmarshal(resp.Object, &n); err != nil {
			return fmt.Errorf("decoding node %s: %w", name, err)
		}
		word := map[bool]string{true: "cordoned", false: "uncordoned"}[on]
		if n.Spec.Unschedulable == on {
			fmt.Fprintf(c.out, "node/%s already %s\n", name, word)
			return nil
		}
		n.Spec.Unschedulable = on
		n.APIVersion, n.Kind = "v1", "Node"
		data, _ := json.Marshal(&n)
		_, err = cl.Do(ctx, api.VerbUpdate, &api.Request{Object: data})
		if events.IsConflict(err) && attempt < 5 {
			continue // the node's status moved on; try again
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(c.out, "node/%s %s\n", name, word)
		return nil
	}
}

func (c *cli) drainCommand() *cobra.Command {
	var timeout time.Duration
	var ignoreDaemonSets bool
	cmd := &cobra.Command{
		Use: "drain NODE", Short: "Cordon a node and evict its pods, respecting PodDisruptionBudgets", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			node := args[0]
			if err := c.setUnschedulable(node, true); err != nil {
				return err
			}
			cl, err := c.connect()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			return c.drain(ctx, cl, node, ignoreDaemonSets)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 2*time.Minute, "give up after this long")
	cmd.Flags().BoolVar(&ignoreDaemonSets, "ignore-daemonsets", true, "leave DaemonSet pods (their controller would put them back)")
	return cmd
}

// drain evicts every pod of node, retrying evictions a disruption budget
// refuses, and waits until the pods are gone.
func (c *cli) drain(ctx context.Context, cl *api.Client, node string, ignoreDaemonSets bool) error {
	evicted := map[string]bool{}
	for {
		pods, err := c.nodePods(ctx, cl, node)
		if err != nil {
			return err
		}
		var waiting, refused int
		var lastRefusal error
		for _, p := range pods {
			key := p.Namespace + "/" + p.Name
			if ref := metav1.GetControllerOf(p); ref != nil && ref.Kind == "DaemonSet" {
				if !ignoreDaemonSets {
					return fmt.Errorf("cannot delete DaemonSet-managed pod %s (use --ignore-daemonsets)", key)
				}
				continue
			}
			waiting++
			if p.DeletionTimestamp != nil {
				continue
			}
			rctx, cancel := context.WithTimeout(ctx, c.timeout)
			_, err := cl.Do(rctx, api.VerbEvict, &api.Request{Namespace: p.Namespace, Name: p.Name})
			cancel()
			switch {
			case err == nil:
				if !evicted[key] {
					evicted[key] = true
					fmt.Fprintf(c.out, "evicting pod %s\n", key)
				}
			case events.ReasonOf(err) == api.ReasonTooManyRequests:
				refused++
				lastRefusal = err
			case events.IsNotFound(err):
			default:
				return err
			}
		}
		if waiting == 0 {
			fmt.Fprintf(c.out, "node/%s drained\n", node)
			return nil
		}
		select {
		case <-ctx.Done():
			if lastRefusal != nil {
				return fmt.Errorf("draining node %s: %d pod(s) left: %w", node, waiting, lastRefusal)
			}
			return fmt.Errorf("draining node %s: %d pod(s) left when the timeout expired", node, waiting)
		case <-time.After(500 * time.Millisecond):
		}
		if refused > 0 {
			fmt.Fprintf(c.err, "error when evicting pods (will retry after 500ms): %v\n", lastRefusal)
		}
	}
}

func (c *cli) nodePods(ctx context.Context, cl *api.Client, node string) ([]*corev1.Pod, error) {
	resp, err := cl.ListAll(ctx, api.Request{Resource: "pods", AllNamespaces: true, FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, err
	}
	out := make([]*corev1.Pod, 0, len(resp.Items))
	for _, item := range resp.Items {
		var p corev1.Pod
		if err := json.Unmarshal(item, &p); err != nil {
			return nil, errors.New("decoding pod: " + err.Error())
		}
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		out = append(out, &p)
	}
	return out, nil
}
