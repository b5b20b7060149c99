package printers

import (
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

func (d *describer) namespace(ns *corev1.Namespace) {
	d.w(0, "Name:\t%s\n", ns.Name)
	d.labels("", "Labels", ns.Labels)
	d.annotations("", "Annotations", ns.Annotations)
	d.w(0, "Status:\t%s\n", ns.Status.Phase)
	if len(ns.Status.Conditions) > 0 {
		d.w(0, "Conditions:\n  Type\tStatus\tLastTransitionTime\tReason\tMessage\n")
		d.w(1, "----\t------\t------------------\t------\t-------\n")
		for _, c := range ns.Status.Conditions {
			d.w(1, "%s\t%s\t%s\t%s\t%s\n", c.Type, c.Status, rfc1123(c.LastTransitionTime), c.Reason, c.Message)
		}
	}
	d.w(0, "\n")
	d.resourceQuotas(d.rel.ResourceQuotas)
	d.w(0, "\n")
	d.limitRanges(d.rel.LimitRanges)
}

func (d *describer) resourceQuotas(qs []*corev1.ResourceQuota) {
	if len(qs) == 0 {
		d.w(0, "No resource quota.\n")
		return
	}
	sorted := append([]*corev1.ResourceQuota(nil), qs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	d.w(0, "Resource Quotas\n")
	for _, q := range sorted {
		d.w(1, "Name:\t%s\n", q.Name)
		d.w(1, "Resource\tUsed\tHard\n")
		d.w(1, "--------\t---\t---\n")
		for _, r := range sortedResourceNames(q.Status.Hard) {
			used, hard := q.Status.Used[r], q.Status.Hard[r]
			d.w(1, "%s\t%s\t%s\n", r, used.String(), hard.String())
		}
	}
}

func (d *describer) limitRanges(ls []*corev1.LimitRange) {
	if len(ls) == 0 {
		d.w(0, "No LimitRange resource.\n")
		return
	}
	d.w(0, "Resource Limits\n")
	d.w(0, " Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n")
	d.w(0, " ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n")
	for _, l := range ls {
		for _, item := range l.Spec.Limits {
			names := map[string]bool{}
			for _, list := range []corev1.ResourceList{item.Min, item.Max, item.DefaultRequest, item.Default, item.MaxLimitRequestRatio} {
				for n := range list {
					names[string(n)] = true
				}
			}
			cell := func(list corev1.ResourceList, n string) string {
				if q, ok := list[corev1.ResourceName(n)]; ok {
					return q.String()
				}
				return "-"
			}
			for _, n := range sortedKeys(names) {
				d.w(0, " %s\t%s\t%s\t%s\t%s\t%s\t%s\n", item.Type, n, cell(item.Min, n), cell(item.Max, n),
					cell(item.DefaultRequest, n), cell(item.Default, n), cell(item.MaxLimitRequestRatio, n))
			}
		}
	}
}

func (d *describer) configMap(c *corev1.ConfigMap) {
	d.w(0, "Name:\t%s\n", c.Name)
	d.w(0, "Namespace:\t%s\n", c.Namespace)
	d.labels("", "Labels", c.Labels)
	d.annotations("", "Annotations", c.Annotations)
	d.flush()
	d.w(0, "\nData\n====\n")
	for _, k := range sortedKeys(c.Data) {
		d.w(0, "%s:\n----\n", k)
		d.raw(c.Data[k] + "\n\n")
	}
	d.w(0, "\nBinaryData\n====\n")
	for _, k := range sortedKeys(c.BinaryData) {
		d.w(0, "%s: %d bytes\n", k, len(c.BinaryData[k]))
	}
	d.w(0, "\n")
	d.events()
}

// secret never prints values: only each key's size in bytes.
func (d *describer) secret(s *corev1.Secret) {
	d.w(0, "Name:\t%s\n", s.Name)
	d.w(0, "Namespace:\t%s\n", s.Namespace)
	d.labels("", "Labels", s.Labels)
	d.annotations("", "Annotations", s.Annotations)
	d.w(0, "\nType:\t%s\n", s.Type)
	d.w(0, "\nData\n====\n")
	sizes := map[string]int{}
	for k, v := range s.Data {
		sizes[k] = len(v)
	}
	for k, v := range s.StringData {
		if _, ok := sizes[k]; !ok {
			sizes[k] = len(v)
		}
	}
	for _, k := range sortedKeys(sizes) {
		d.w(0, "%s:\t%d bytes\n", k, sizes[k])
	}
}

// raw writes text that must not be aligned, such as a config map value
// that may hold tabs: tabwriter passes text between 0xff escape bytes
// through untouched.
func (d *describer) raw(s string) {
	if d.err != nil {
		return
	}
	for i, line := range strings.SplitAfter(s, "\n") {
		if line == "" && i > 0 {
			continue
		}
		body := strings.TrimSuffix(line, "\n")
		_, d.err = d.tw.Write([]byte("\xff" + strings.ReplaceAll(body, "\xff", "") + "\xff"))
		if d.err == nil && strings.HasSuffix(line, "\n") {
			_, d.err = d.tw.Write([]byte("\n"))
		}
	}
}
