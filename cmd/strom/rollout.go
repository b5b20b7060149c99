package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	appsv1 "k8s.io/api/apps/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/reconcilers/deployment"
)

// rolloutTarget parses a rollout command's argument (rolloutArg) and
// connects to the cluster.
func (c *cli) rolloutTarget(arg string) (rolloutKind, string, *api.Client, error) {
	k, name, err := rolloutArg(arg)
	if err != nil {
		return 0, "", nil, err
	}
	cl, err := c.connect()
	if err != nil {
		return 0, "", nil, err
	}
	return k, name, cl, nil
}

func (c *cli) getDeployment(ctx context.Context, cl *api.Client, name string) (*appsv1.Deployment, error) {
	resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: "deployments", Namespace: c.ns(), Name: name})
	if err != nil {
		return nil, err
	}
	var d appsv1.Deployment
	if err := json.Unmarshal(resp.Object, &d); err != nil {
		return nil, fmt.Errorf("decoding deployment %s: %w", name, err)
	}
	return &d, nil
}

func (c *cli) ownedReplicaSets(ctx context.Context, cl *api.Client, d *appsv1.Deployment) ([]*appsv1.ReplicaSet, error) {
	resp, err := cl.ListAll(ctx, api.Request{Resource: "replicasets", Namespace: d.Namespace, FieldSelector: "metadata.ownerReferences.uid=" + string(d.UID)})
	if err != nil {
		return nil, err
	}
	out := make([]*appsv1.ReplicaSet, 0, len(resp.Items))
	for _, item := range resp.Items {
		var rs appsv1.ReplicaSet
		if err := json.Unmarshal(item, &rs); err != nil {
			return nil, fmt.Errorf("decoding replicaset: %w", err)
		}
		out = append(out, &rs)
	}
	return out, nil
}

func (c *cli) updateDeployment(ctx context.Context, cl *api.Client, d *appsv1.Deployment) error {
	d.APIVersion, d.Kind = "apps/v1", "Deployment"
	data, err := json.Marshal(d)
	if err != nil {
		return err
	}
	_, err = cl.Do(ctx, api.VerbUpdate, &api.Request{Object: data, Namespace: d.Namespace})
	return err
}

func (c *cli) rolloutCommand() *cobra.Command {
	root := &cobra.Command{Use: "rollout SUBCOMMAND", Short: "Manage the rollout of a deployment, daemonset or statefulset"}
	root.AddCommand(c.rolloutStatusCommand(), c.rolloutHistoryCommand(), c.rolloutUndoCommand(),
		c.rolloutPatchCommand("pause", "Mark the deployment paused: template changes are not rolled out", func(d *appsv1.Deployment) (string, error) {
			if d.Spec.Paused {
				return "", fmt.Errorf("deployments %q is already paused", d.Name)
			}
			d.Spec.Paused = true
			return "paused", nil
		}),
		c.rolloutPatchCommand("resume", "Resume a paused deployment", func(d *appsv1.Deployment) (string, error) {
			if !d.Spec.Paused {
				return "", fmt.Errorf("deployments %q is not paused", d.Name)
			}
			d.Spec.Paused = false
			return "resumed", nil
		}),
		c.rolloutPatchCommand("restart", "Restart every pod of the deployment with a rollout", func(d *appsv1.Deployment) (string, error) {
			if d.Spec.Paused {
				return "", fmt.Errorf("can't restart paused deployment (run rollout resume first)")
			}
			if d.Spec.Template.Annotations == nil {
				d.Spec.Template.Annotations = map[string]string{}
			}
			d.Spec.Template.Annotations["kubectl.kubernetes.io/restartedAt"] = c.now().UTC().Format(time.RFC3339Nano)
			return "restarted", nil
		}),
	)
	return root
}

// rolloutPatchCommand changes the deployment with change and writes it.
func (c *cli) rolloutPatchCommand(use, short string, change func(*appsv1.Deployment) (string, error)) *cobra.Command {
	return &cobra.Command{
		Use: use + " TYPE/NAME", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, cl, err := c.rolloutTarget(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			if k != rolloutDeployment {
				if use != "restart" {
					res := "daemonsets.apps"
					if k == rolloutStatefulSet {
						res = "statefulsets.apps"
					}
					return fmt.Errorf("%s %q %s is not supported", res, name, strings.TrimSuffix(use, "e")+"ing")
				}
				var qual string
				if err := retryOnConflict(func() (err error) { qual, err = c.podSetRestart(ctx, cl, k, name); return err }); err != nil {
					return err
				}
				fmt.Fprintf(c.out, "%s/%s restarted\n", qual, name)
				return nil
			}
			var what string
			err = retryOnConflict(func() error {
				d, err := c.getDeployment(ctx, cl, name)
				if err != nil {
					return err
				}
				if what, err = change(d); err != nil {
					return err
				}
				return c.updateDeployment(ctx, cl, d)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "deployment.apps/%s %s\n", name, what)
			return nil
		},
	}
}

func (c *cli) rolloutStatusCommand() *cobra.Command {
	var watch bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use: "status TYPE/NAME", Short: "Show the status of the rollout, waiting until it completes", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, cl, err := c.rolloutTarget(args[0])
			if err != nil {
				return err
			}
			ctx := context.Background()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			if k != rolloutDeployment {
				return c.podSetRolloutStatus(ctx, cl, k, name, watch)
			}
			last := ""
			for {
				rctx, cancel := c.ctx()
				d, err := c.getDeployment(rctx, cl, name)
				cancel()
				if err != nil {
					return err
				}
				msg, done, err := rolloutStatus(d)
				if err != nil {
					return err
				}
				if msg != last {
					fmt.Fprintln(c.out, msg)
					last = msg
				}
				if done || !watch {
					return nil
				}
				select {
				case <-ctx.Done():
					return fmt.Errorf("timed out waiting for the rollout of deployment %q", name)
				case <-time.After(200 * time.Millisecond):
				}
			}
		},
	}
	cmd.Flags().BoolVarP(&watch, "watch", "w", true, "wait until the rollout completes")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long (0: never)")
	return cmd
}

// rolloutStatus reads a deployment's progress as kubectl does.
func rolloutStatus(d *appsv1.Deployment) (string, bool, error) {
	if d.Generation > d.Status.ObservedGeneration {
		return "Waiting for deployment spec update to be observed...", false, nil
	}
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentProgressing && c.Reason == deployment.ReasonTimedOut {
			return "", false, fmt.Errorf("deployment %q exceeded its progress deadline", d.Name)
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	switch {
	case s.UpdatedReplicas < want:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d out of %d new replicas have been updated...", d.Name, s.UpdatedReplicas, want), false, nil
	case s.Replicas > s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d old replicas are pending termination...", d.Name, s.Replicas-s.UpdatedReplicas), false, nil
	case s.AvailableReplicas < s.UpdatedReplicas:
		return fmt.Sprintf("Waiting for deployment %q rollout to finish: %d of %d updated replicas are available...", d.Name, s.AvailableReplicas, s.UpdatedReplicas), false, nil
	}
	return fmt.Sprintf("deployment %q successfully rolled out", d.Name), true, nil
}

func (c *cli) rolloutHistoryCommand() *cobra.Command {
	var revision int64
	cmd := &cobra.Command{
		Use: "history TYPE/NAME", Short: "Show the revisions of a deployment, daemonset or statefulset", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, cl, err := c.rolloutTarget(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			if k != rolloutDeployment {
				return c.podSetHistory(ctx, cl, k, name, revision)
			}
			d, err := c.getDeployment(ctx, cl, name)
			if err != nil {
				return err
			}
			rss, err := c.ownedReplicaSets(ctx, cl, d)
			if err != nil {
				return err
			}
			sort.Slice(rss, func(i, j int) bool { return deployment.Revision(rss[i]) < deployment.Revision(rss[j]) })
			if revision > 0 {
				for _, rs := range rss {
					if deployment.Revision(rs) == revision {
						fmt.Fprintf(c.out, "deployment.apps/%s with revision #%d\nPod Template:\n", name, revision)
						for _, ct := range rs.Spec.Template.Spec.Containers {
							fmt.Fprintf(c.out, "  Container %s:\n    Image: %s\n", ct.Name, ct.Image)
						}
						return nil
					}
				}
				return fmt.Errorf("unable to find the specified revision")
			}
			fmt.Fprintf(c.out, "deployment.apps/%s\n", name)
			tw := tabwriter.NewWriter(c.out, 0, 8, 2, ' ', 0)
			fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
			for _, rs := range rss {
				if r := deployment.Revision(rs); r > 0 {
					cause := rs.Annotations["kubernetes.io/change-cause"]
					if cause == "" {
						cause = "<none>"
					}
					fmt.Fprintf(tw, "%d\t%s\n", r, cause)
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().Int64Var(&revision, "revision", 0, "show the pod template of this revision")
	return cmd
}

func (c *cli) rolloutUndoCommand() *cobra.Command {
	var to int64
	cmd := &cobra.Command{
		Use: "undo TYPE/NAME", Short: "Roll back to the previous (or a given) revision", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, name, cl, err := c.rolloutTarget(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			if k != rolloutDeployment {
				var qual string
				var skipped bool
				err := retryOnConflict(func() (err error) { qual, skipped, err = c.podSetUndo(ctx, cl, k, name, to); return err })
				switch {
				case err != nil:
					return err
				case skipped:
					fmt.Fprintf(c.out, "%s/%s skipped rollback (current template already matches revision %d)\n", qual, name, to)
				default:
					fmt.Fprintf(c.out, "%s/%s rolled back\n", qual, name)
				}
				return nil
			}
			skipped := false
			err = retryOnConflict(func() error {
				skipped = false
				return c.undo(ctx, cl, name, to, &skipped)
			})
			if err != nil {
				return err
			}
			if skipped {
				fmt.Fprintf(c.out, "deployment.apps/%s skipped rollback (current template already matches revision %d)\n", name, to)
				return nil
			}
			fmt.Fprintf(c.out, "deployment.apps/%s rolled back\n", name)
			return nil
		},
	}
	cmd.Flags().Int64Var(&to, "to-revision", 0, "the revision to roll back to (0: the previous one)")
	return cmd
}

// undo sets the deployment's template to revision to's.
func (c *cli) undo(ctx context.Context, cl *api.Client, name string, to int64, skipped *bool) error {
	d, err := c.getDeployment(ctx, cl, name)
	if err != nil {
		return err
	}
	if d.Spec.Paused {
		return fmt.Errorf("you cannot rollback a paused deployment; resume it first with 'strom rollout resume deployment/%s' and try again", name)
	}
	rss, err := c.ownedReplicaSets(ctx, cl, d)
	if err != nil {
		return err
	}
	tmpl, err := deployment.TemplateForRevision(rss, to)
	if err != nil {
		return err
	}
	if deployment.EqualIgnoreHash(tmpl, &d.Spec.Template) {
		*skipped = true
		return nil
	}
	d.Spec.Template = *tmpl
	return c.updateDeployment(ctx, cl, d)
}

// retryOnConflict runs fn again, up to 5 times, while it fails with a
// Conflict (a controller wrote the object in between).
func retryOnConflict(fn func() error) error {
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if err = fn(); !events.IsConflict(err) {
			return err
		}
	}
	return err
}

// scaleCommand sets spec.replicas of a deployment, replicaset,
// statefulset or replicationcontroller.
func (c *cli) scaleCommand() *cobra.Command {
	var replicas int32
	cmd := &cobra.Command{
		Use: "scale (TYPE NAME | TYPE/NAME) --replicas=N", Short: "Set the number of replicas of a workload",
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("replicas") || replicas < 0 {
				return fmt.Errorf("--replicas=N (N >= 0) is required")
			}
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			cl, err := c.connect()
			if err != nil {
				return err
			}
			for _, t := range targets {
				switch t.kind.Kind {
				case "Deployment", "ReplicaSet", "StatefulSet", "ReplicationController":
				default:
					return fmt.Errorf("cannot scale %s", t.kind.Resource)
				}
				for _, name := range t.names {
					ctx, cancel := c.ctx()
					err := retryOnConflict(func() error { return c.scaleOne(ctx, cl, t.kind.Resource, name, replicas) })
					cancel()
					if err != nil {
						return err
					}
					fmt.Fprintf(c.out, "%s/%s scaled\n", t.kind.QualifiedName(), name)
				}
			}
			return nil
		},
	}
	cmd.Flags().Int32Var(&replicas, "replicas", 0, "the new number of replicas")
	return cmd
}

func (c *cli) scaleOne(ctx context.Context, cl *api.Client, resource, name string, replicas int32) error {
	resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: resource, Namespace: c.ns(), Name: name})
	if err != nil {
		return err
	}
	var obj map[string]any
	if err := json.Unmarshal(resp.Object, &obj); err != nil {
		return fmt.Errorf("decoding %s %s: %w", resource, name, err)
	}
	spec, _ := obj["spec"].(map[string]any)
	if spec == nil {
		spec = map[string]any{}
		obj["spec"] = spec
	}
	spec["replicas"] = replicas
	data, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = cl.Do(ctx, api.VerbUpdate, &api.Request{Object: data, Namespace: c.ns()})
	return err
}
