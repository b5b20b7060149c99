package main

import (
	"fmt"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/cmd/strom/printers"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
)

func (c *cli) describeCommand() *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "describe TYPE NAME | TYPE/NAME",
		Short: "Show an object in detail, with its Events (now, or --at a point in history)",
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			objs, err := c.fetch(targets, &getOptions{at: at})
			if err != nil {
				return err
			}
			first := true
			for _, list := range objs {
				for _, obj := range list {
					if !first {
						fmt.Fprintln(c.out)
					}
					first = false
					rel, err := c.related(obj, at)
					if err != nil {
						return err
					}
					if err := printers.DescribeRelated(c.out, obj, rel, c.now()); err != nil {
						return err
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&at, "at", "", "describe the object as it was at SEQ, an RFC3339 time, or -DURATION")
	return cmd
}

// related gathers what describe shows beside the object: its Events and,
// per kind, its replica sets, pods or endpoints.
func (c *cli) related(obj objects.Object, at string) (printers.Related, error) {
	var rel printers.Related
	cl, err := c.connect()
	if err != nil {
		return rel, err
	}
	list := func(resource, ns, fieldSel string) ([]objects.Object, error) {
		ctx, cancel := c.ctx()
		defer cancel()
		k, _ := objects.Lookup(resource)
		resp, err := cl.ListAll(ctx, api.Request{Resource: resource, Namespace: ns, AllNamespaces: ns == "", FieldSelector: fieldSel, At: at})
		if err != nil {
			return nil, err
		}
		var out []objects.Object
		for _, item := range resp.Items {
			o, err := objects.DecodeStored(k, item)
			if err != nil {
				return nil, err
			}
			out = append(out, o)
		}
		return out, nil
	}
	evs, err := list("events", obj.GetNamespace(), "")
	if err != nil {
		return rel, err
	}
	for _, o := range evs {
		ev := o.(*corev1.Event)
		if ev.InvolvedObject.UID == obj.GetUID() || (ev.InvolvedObject.UID == "" && ev.InvolvedObject.Name == obj.GetName() && ev.InvolvedObject.Kind == obj.GetObjectKind().GroupVersionKind().Kind) {
			rel.Events = append(rel.Events, ev)
		}
	}
	owned := "metadata.ownerReferences.uid=" + string(obj.GetUID())
	switch o := obj.(type) {
	case *appsv1.Deployment:
		rss, err := list("replicasets", o.Namespace, owned)
		if err != nil {
			return rel, err
		}
		for _, r := range rss {
			rel.ReplicaSets = append(rel.ReplicaSets, r.(*appsv1.ReplicaSet))
		}
	case *appsv1.ReplicaSet:
		pods, err := list("pods", o.Namespace, owned)
		if err != nil {
			return rel, err
		}
		for _, p := range pods {
			rel.Pods = append(rel.Pods, p.(*corev1.Pod))
		}
	case *corev1.Node:
		pods, err := list("pods", "", "spec.nodeName="+o.Name)
		if err != nil {
			return rel, err
		}
		for _, p := range pods {
			rel.Pods = append(rel.Pods, p.(*corev1.Pod))
		}
	case *corev1.Service:
		ctx, cancel := c.ctx()
		resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: "endpoints", Namespace: o.Namespace, Name: o.Name, At: at})
		cancel()
		if err == nil {
			k, _ := objects.Lookup("endpoints")
			if ep, err := objects.DecodeStored(k, resp.Object); err == nil {
				rel.Endpoints = ep.(*corev1.Endpoints)
			}
		}
	}
	return rel, nil
}
