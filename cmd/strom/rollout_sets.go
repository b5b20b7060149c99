package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/reconcilers/history"
)

// Rollouts of DaemonSets and StatefulSets, whose revisions are
// ControllerRevisions (reconcilers/history), as kubectl's rollout
// commands handle them. Deployments keep their ReplicaSet revisions
// (rollout.go).

// rolloutKind is what a rollout command's argument names.
type rolloutKind int

const (
	rolloutDeployment rolloutKind = iota
	rolloutDaemonSet
	rolloutStatefulSet
)

// rolloutArg accepts "NAME" (a deployment) or "TYPE/NAME" for a
// deployment, daemonset or statefulset, with kubectl's names for them.
func rolloutArg(arg string) (rolloutKind, string, error) {
	kind, name, ok := strings.Cut(arg, "/")
	if !ok {
		return rolloutDeployment, arg, nil
	}
	if name == "" {
		return 0, "", fmt.Errorf("%q names no object: use TYPE/NAME", arg)
	}
	switch strings.ToLower(kind) {
	case "deployment", "deployments", "deploy", "deployment.apps", "deployments.apps":
		return rolloutDeployment, name, nil
	case "daemonset", "daemonsets", "ds", "daemonset.apps", "daemonsets.apps":
		return rolloutDaemonSet, name, nil
	case "statefulset", "statefulsets", "sts", "statefulset.apps", "statefulsets.apps":
		return rolloutStatefulSet, name, nil
	}
	return 0, "", fmt.Errorf("rollout works on deployments, daemonsets and statefulsets, not %q", kind)
}

// podSet is a DaemonSet or a StatefulSet, read for a rollout command.
type podSet struct {
	obj      objects.Object
	resource string // daemonsets or statefulsets
	qualName string // daemonset.apps or statefulset.apps
	template *corev1.PodTemplateSpec
}

func (c *cli) getPodSet(ctx context.Context, cl *api.Client, k rolloutKind, name string) (*podSet, error) {
	resource := "daemonsets"
	if k == rolloutStatefulSet {
		resource = "statefulsets"
	}
	resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: resource, Namespace: c.ns(), Name: name})
	if err != nil {
		return nil, err
	}
	obj, _, err := objects.DecodeJSON(resp.Object)
	if err != nil {
		return nil, fmt.Errorf("decoding %s %s: %w", resource, name, err)
	}
	s := &podSet{obj: obj, resource: resource}
	switch o := obj.(type) {
	case *appsv1.DaemonSet:
		s.qualName, s.template = "daemonset.apps", &o.Spec.Template
	case *appsv1.StatefulSet:
		s.qualName, s.template = "statefulset.apps", &o.Spec.Template
	default:
		return nil, fmt.Errorf("%s %s: unexpected %T", resource, name, obj)
	}
	return s, nil
}

func (c *cli) updatePodSet(ctx context.Context, cl *api.Client, s *podSet) error {
	data, err := json.Marshal(s.obj)
	if err != nil {
		return err
	}
	_, err = cl.Do(ctx, api.VerbUpdate, &api.Request{Object: data, Namespace: s.obj.GetNamespace()})
	return err
}

// revisions lists the set's ControllerRevisions, oldest first.
func (c *cli) revisions(ctx context.Context, cl *api.Client, s *podSet) ([]*appsv1.ControllerRevision, error) {
	resp, err := cl.ListAll(ctx, api.Request{Resource: "controllerrevisions", Namespace: s.obj.GetNamespace(),
		FieldSelector: "metadata.ownerReferences.uid=" + string(s.obj.GetUID())})
	if err != nil {
		return nil, err
	}
	out := make([]*appsv1.ControllerRevision, 0, len(resp.Items))
	for _, item := range resp.Items {
		var r appsv1.ControllerRevision
		if err := json.Unmarshal(item, &r); err != nil {
			return nil, fmt.Errorf("decoding controllerrevision: %w", err)
		}
		out = append(out, &r)
	}
	history.Sort(out)
	return out, nil
}

// podSetStatus reads a set's progress with kubectl's messages.
func podSetStatus(obj objects.Object) (string, bool, error) {
	switch o := obj.(type) {
	case *appsv1.DaemonSet:
		return daemonSetStatus(o)
	case *appsv1.StatefulSet:
		return statefulSetStatus(o)
	}
	return "", false, fmt.Errorf("no rollout status for %T", obj)
}

func daemonSetStatus(ds *appsv1.DaemonSet) (string, bool, error) {
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return "", true, fmt.Errorf("rollout status is only available for %s strategy type", appsv1.RollingUpdateDaemonSetStrategyType)
	}
	s := ds.Status
	switch {
	case ds.Generation > s.ObservedGeneration:
		return "Waiting for daemon set spec update to be observed...", false, nil
	case s.UpdatedNumberScheduled < s.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d out of %d new pods have been updated...", ds.Name, s.UpdatedNumberScheduled, s.DesiredNumberScheduled), false, nil
	case s.NumberAvailable < s.DesiredNumberScheduled:
		return fmt.Sprintf("Waiting for daemon set %q rollout to finish: %d of %d updated pods are available...", ds.Name, s.NumberAvailable, s.DesiredNumberScheduled), false, nil
	}
	return fmt.Sprintf("daemon set %q successfully rolled out", ds.Name), true, nil
}

func statefulSetStatus(ss *appsv1.StatefulSet) (string, bool, error) {
	if ss.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return "", true, fmt.Errorf("rollout status is only available for %s strategy type", appsv1.RollingUpdateStatefulSetStrategyType)
	}
	s := ss.Status
	if s.ObservedGeneration == 0 || ss.Generation > s.ObservedGeneration {
		return "Waiting for statefulset spec update to be observed...", false, nil
	}
	replicas := int32(1)
	if ss.Spec.Replicas != nil {
		replicas = *ss.Spec.Replicas
	}
	if s.ReadyReplicas < replicas {
		return fmt.Sprintf("Waiting for %d pods to be ready...", replicas-s.ReadyReplicas), false, nil
	}
	if ru := ss.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil && *ru.Partition > 0 {
		if s.UpdatedReplicas < replicas-*ru.Partition {
			return fmt.Sprintf("Waiting for partitioned roll out to finish: %d out of %d new pods have been updated...", s.UpdatedReplicas, replicas-*ru.Partition), false, nil
		}
		return fmt.Sprintf("partitioned roll out complete: %d new pods have been updated...", s.UpdatedReplicas), true, nil
	}
	if s.UpdateRevision != s.CurrentRevision {
		return fmt.Sprintf("waiting for statefulset rolling update to complete %d pods at revision %s...", s.UpdatedReplicas, s.UpdateRevision), false, nil
	}
	return fmt.Sprintf("statefulset rolling update complete %d pods at revision %s...", s.CurrentReplicas, s.CurrentRevision), true, nil
}

// podSetRolloutStatus polls a set's status until it is rolled out (or
// once without watch).
func (c *cli) podSetRolloutStatus(ctx context.Context, cl *api.Client, k rolloutKind, name string, watch bool) error {
	last := ""
	for {
		rctx, cancel := c.ctx()
		s, err := c.getPodSet(rctx, cl, k, name)
		cancel()
		if err != nil {
			return err
		}
		msg, done, err := podSetStatus(s.obj)
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
			return fmt.Errorf("timed out waiting for the rollout of %s %q", s.resource, name)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *cli) podSetHistory(ctx context.Context, cl *api.Client, k rolloutKind, name string, revision int64) error {
	s, err := c.getPodSet(ctx, cl, k, name)
	if err != nil {
		return err
	}
	revs, err := c.revisions(ctx, cl, s)
	if err != nil {
		return err
	}
	if revision > 0 {
		for _, r := range revs {
			if r.Revision != revision {
				continue
			}
			t, err := history.Template(r)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.out, "%s/%s with revision #%d\nPod Template:\n", s.qualName, name, revision)
			for _, ct := range t.Spec.Containers {
				fmt.Fprintf(c.out, "  Container %s:\n    Image: %s\n", ct.Name, ct.Image)
			}
			return nil
		}
		return fmt.Errorf("unable to find the specified revision")
	}
	fmt.Fprintf(c.out, "%s/%s\n", s.qualName, name)
	tw := tabwriter.NewWriter(c.out, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
	for _, r := range revs {
		cause := r.Annotations["kubernetes.io/change-cause"]
		if cause == "" {
			cause = "<none>"
		}
		fmt.Fprintf(tw, "%d\t%s\n", r.Revision, cause)
	}
	return tw.Flush()
}

// podSetUndo sets the set's template to revision to's (0: the one before
// the newest). skipped reports a template that matches already.
func (c *cli) podSetUndo(ctx context.Context, cl *api.Client, k rolloutKind, name string, to int64) (string, bool, error) {
	s, err := c.getPodSet(ctx, cl, k, name)
	if err != nil {
		return "", false, err
	}
	revs, err := c.revisions(ctx, cl, s)
	if err != nil {
		return "", false, err
	}
	var target *appsv1.ControllerRevision
	switch {
	case to > 0:
		for _, r := range revs {
			if r.Revision == to {
				target = r
			}
		}
		if target == nil {
			return s.qualName, false, fmt.Errorf("unable to find specified revision %d in history", to)
		}
	case len(revs) < 2:
		return s.qualName, false, fmt.Errorf("no rollout history found for %s %q", s.resource, name)
	default:
		target = revs[len(revs)-2]
	}
	t, err := history.Template(target)
	if err != nil {
		return s.qualName, false, err
	}
	if equality.Semantic.DeepEqual(t, s.template) {
		return s.qualName, true, nil
	}
	*s.template = *t
	return s.qualName, false, c.updatePodSet(ctx, cl, s)
}

// podSetRestart sets the restartedAt annotation of the set's template.
func (c *cli) podSetRestart(ctx context.Context, cl *api.Client, k rolloutKind, name string) (string, error) {
	s, err := c.getPodSet(ctx, cl, k, name)
	if err != nil {
		return "", err
	}
	if s.template.Annotations == nil {
		s.template.Annotations = map[string]string{}
	}
	s.template.Annotations["kubectl.kubernetes.io/restartedAt"] = c.now().UTC().Format(time.RFC3339Nano)
	return s.qualName, c.updatePodSet(ctx, cl, s)
}
