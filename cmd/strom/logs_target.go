package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/strom-project/strom/events/api"
)

// podOf resolves kubectl's TYPE/NAME for logs and exec (pod/x,
// deployment/x, job/x, ...) to one pod: the object's selector picks its
// pods, and of several the one kubectl would take (bound, then Running,
// then Ready, then the newest), saying so on stderr.
func (c *cli) podOf(ctx context.Context, cl *api.Client, ref string) (string, error) {
	targets, err := parseTargets([]string{ref})
	if err != nil {
		return "", err
	}
	t := targets[0]
	if t.kind.Kind == "Pod" {
		return t.names[0], nil
	}
	resp, err := cl.Do(ctx, api.VerbGet, &api.Request{Resource: t.kind.Resource, Namespace: c.ns(), Name: t.names[0]})
	if err != nil {
		return "", err
	}
	var obj struct {
		Spec struct {
			Selector json.RawMessage `json:"selector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(resp.Object, &obj); err != nil {
		return "", err
	}
	sel, err := selectorOf(t.kind.Kind, obj.Spec.Selector)
	if err != nil {
		return "", fmt.Errorf("%s: %w", ref, err)
	}
	list, err := cl.Do(ctx, api.VerbList, &api.Request{Resource: "pods", Namespace: c.ns(), LabelSelector: sel.String()})
	if err != nil {
		return "", err
	}
	var pods []corev1.Pod
	for _, item := range list.Items {
		var p corev1.Pod
		if err := json.Unmarshal(item, &p); err != nil {
			return "", err
		}
		pods = append(pods, p)
	}
	if len(pods) == 0 {
		return "", fmt.Errorf("no pods found for %s", ref)
	}
	sort.SliceStable(pods, func(i, j int) bool { return morePreferred(&pods[i], &pods[j]) })
	if len(pods) > 1 {
		fmt.Fprintf(c.err, "Found %d pods, using pod/%s\n", len(pods), pods[0].Name)
	}
	return pods[0].Name, nil
}

// selectorOf reads a workload's spec.selector: a map for a
// ReplicationController, a label selector for the others.
func selectorOf(kind string, raw json.RawMessage) (labels.Selector, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, fmt.Errorf("a %s without a selector has no pods to choose from", kind)
	}
	if kind == "ReplicationController" {
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		return labels.SelectorFromSet(m), nil
	}
	var ls metav1.LabelSelector
	if err := json.Unmarshal(raw, &ls); err != nil {
		return nil, err
	}
	return metav1.LabelSelectorAsSelector(&ls)
}

// morePreferred orders pods for logs as kubectl's ByLogging does in its
// first steps: bound before unbound, Running before other phases, Ready
// before not, then the newest.
func morePreferred(a, b *corev1.Pod) bool {
	if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
		return a.Spec.NodeName != ""
	}
	if (a.Status.Phase == corev1.PodRunning) != (b.Status.Phase == corev1.PodRunning) {
		return a.Status.Phase == corev1.PodRunning
	}
	if podReady(a) != podReady(b) {
		return podReady(a)
	}
	return b.CreationTimestamp.Before(&a.CreationTimestamp)
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
