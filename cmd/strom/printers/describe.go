package printers

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/events/objects"
)

// Related is what a describe page shows beside the object itself. The
// caller fetches what applies to the object's kind; anything left nil is
// left out of the page.
type Related struct {
	Events     []*corev1.Event // events about the object
	HideEvents bool            // --show-events=false
	// ReplicaSets are a deployment's replica sets (OldReplicaSets and
	// NewReplicaSet lines).
	ReplicaSets []*appsv1.ReplicaSet
	// Pods are a replica set's pods (its "Pods Status" line) or a node's
	// pods (its "Non-terminated Pods" table).
	Pods []*corev1.Pod
	// Endpoints are a service's endpoints.
	Endpoints *corev1.Endpoints
	// ResourceQuotas and LimitRanges are a namespace's.
	ResourceQuotas []*corev1.ResourceQuota
	LimitRanges    []*corev1.LimitRange
}

// Describe writes a kubectl describe page for obj, with its events.
// Secret values never appear: only their sizes.
func Describe(w io.Writer, obj objects.Object, events []*corev1.Event, now time.Time) error {
	return DescribeRelated(w, obj, Related{Events: events}, now)
}

// DescribeRelated is Describe with the related objects some kinds show.
func DescribeRelated(w io.Writer, obj objects.Object, rel Related, now time.Time) error {
	var buf bytes.Buffer
	d := &describer{tw: tabwriter.NewWriter(&buf, 0, 8, 2, ' ', tabwriter.StripEscape), now: now, rel: rel}
	switch o := obj.(type) {
	case *corev1.Pod:
		d.pod(o)
	case *appsv1.Deployment:
		d.deployment(o)
	case *appsv1.ReplicaSet:
		d.replicaSet(o)
	case *corev1.Service:
		d.service(o)
	case *corev1.Node:
		d.node(o)
	case *corev1.Namespace:
		d.namespace(o)
	case *corev1.ConfigMap:
		d.configMap(o)
	case *corev1.Secret:
		d.secret(o)
	default:
		if err := d.generic(obj); err != nil {
			return err
		}
	}
	d.flush()
	if d.err != nil {
		return fmt.Errorf("describing %s: %w", obj.GetName(), d.err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing description of %s: %w", obj.GetName(), err)
	}
	return nil
}

// describer writes one describe page through a tabwriter, as kubectl's
// PrefixWriter does: each level indents two spaces, and tab-separated
// cells of consecutive lines align.
type describer struct {
	tw  *tabwriter.Writer
	now time.Time
	rel Related
	err error
}

// w writes a formatted line at an indentation level.
func (d *describer) w(level int, format string, a ...any) {
	if d.err != nil {
		return
	}
	_, d.err = fmt.Fprintf(d.tw, strings.Repeat("  ", level)+format, a...)
}

// flush ends the current block of aligned cells.
func (d *describer) flush() {
	if d.err == nil {
		d.err = d.tw.Flush()
	}
}

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// labelsLines is "Labels:  a=b" with further labels aligned below.
func (d *describer) labels(indent, title string, m map[string]string) {
	d.w(0, "%s%s:\t", indent, title)
	if len(m) == 0 {
		d.w(0, "%s\n", none)
		return
	}
	for i, k := range sortedKeys(m) {
		if i > 0 {
			d.w(0, "%s\t", indent)
		}
		d.w(0, "%s=%s\n", k, m[k])
	}
}

// annotations is labels for annotations, "key: value", without the
// last-applied configuration (it can hold a secret's data) and with long
// values cut at 140 characters.
func (d *describer) annotations(indent, title string, m map[string]string) {
	d.w(0, "%s%s:\t", indent, title)
	var keys []string
	for _, k := range sortedKeys(m) {
		if k != lastApplied {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		d.w(0, "%s\n", none)
		return
	}
	const max = 140
	for i, k := range keys {
		if i > 0 {
			d.w(0, "%s\t", indent)
		}
		line := k + ": " + m[k]
		if len(line) > max {
			line = line[:max] + "..."
		}
		d.w(0, "%s\n", strings.ReplaceAll(line, "\n", " "))
	}
}

// events writes the Events table, oldest last-seen first.
func (d *describer) events() {
	if d.rel.HideEvents {
		return
	}
	if len(d.rel.Events) == 0 {
		d.w(0, "Events:\t%s\n", none)
		return
	}
	d.flush()
	d.w(0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
	d.w(1, "----\t------\t----\t----\t-------\n")
	for _, e := range sortEvents(d.rel.Events) {
		first := microAge(e.EventTime, d.now)
		if e.EventTime.IsZero() {
			first = age(e.FirstTimestamp, d.now)
		}
		interval := first
		switch {
		case e.Series != nil:
			interval = fmt.Sprintf("%s (x%d over %s)", microAge(e.Series.LastObservedTime, d.now), e.Series.Count, first)
		case e.Count > 1:
			interval = fmt.Sprintf("%s (x%d over %s)", age(e.LastTimestamp, d.now), e.Count, first)
		}
		from := e.Source.Component
		if from == "" {
			from = e.ReportingController
		}
		d.w(1, "%s\t%s\t%s\t%s\t%s\n", e.Type, e.Reason, interval, from, strings.TrimSpace(e.Message))
	}
}
