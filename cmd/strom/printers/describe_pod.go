package printers

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

func (d *describer) pod(p *corev1.Pod) {
	d.w(0, "Name:\t%s\n", p.Name)
	d.w(0, "Namespace:\t%s\n", p.Namespace)
	if p.Spec.Priority != nil {
		d.w(0, "Priority:\t%d\n", *p.Spec.Priority)
	}
	if p.Spec.PriorityClassName != "" {
		d.w(0, "Priority Class Name:\t%s\n", p.Spec.PriorityClassName)
	}
	if p.Spec.RuntimeClassName != nil && *p.Spec.RuntimeClassName != "" {
		d.w(0, "Runtime Class Name:\t%s\n", *p.Spec.RuntimeClassName)
	}
	if p.Spec.ServiceAccountName != "" {
		d.w(0, "Service Account:\t%s\n", p.Spec.ServiceAccountName)
	}
	if p.Spec.NodeName == "" {
		d.w(0, "Node:\t%s\n", none)
	} else {
		d.w(0, "Node:\t%s/%s\n", p.Spec.NodeName, p.Status.HostIP)
	}
	if p.Status.StartTime != nil {
		d.w(0, "Start Time:\t%s\n", rfc1123(*p.Status.StartTime))
	}
	d.labels("", "Labels", p.Labels)
	d.annotations("", "Annotations", p.Annotations)
	if p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodFailed && p.Status.Phase != corev1.PodSucceeded {
		// Like kubectl: the time since the deletion timestamp, which the API
		// server sets to the end of the grace period, so "<invalid>" until
		// the grace period is over.
		d.w(0, "Status:\tTerminating (lasts %s)\n", age(*p.DeletionTimestamp, d.now))
		if p.DeletionGracePeriodSeconds != nil {
			d.w(0, "Termination Grace Period:\t%ds\n", *p.DeletionGracePeriodSeconds)
		}
	} else {
		d.w(0, "Status:\t%s\n", p.Status.Phase)
	}
	if p.Status.Reason != "" {
		d.w(0, "Reason:\t%s\n", p.Status.Reason)
	}
	if p.Status.Message != "" {
		d.w(0, "Message:\t%s\n", p.Status.Message)
	}
	d.w(0, "IP:\t%s\n", p.Status.PodIP)
	if len(p.Status.PodIPs) == 0 {
		d.w(0, "IPs:\t%s\n", none)
	} else {
		d.w(0, "IPs:\n")
		for _, ip := range p.Status.PodIPs {
			d.w(1, "IP:\t%s\n", ip.IP)
		}
	}
	if c := controllerOf(p); c != "" {
		d.w(0, "Controlled By:\t%s\n", c)
	}
	if p.Status.NominatedNodeName != "" {
		d.w(0, "NominatedNodeName:\t%s\n", p.Status.NominatedNodeName)
	}
	env := podFieldResolver(p)
	if len(p.Spec.InitContainers) > 0 {
		d.containers("", "Init Containers", p.Spec.InitContainers, p.Status.InitContainerStatuses, env)
	}
	d.containers("", "Containers", p.Spec.Containers, p.Status.ContainerStatuses, env)
	if len(p.Spec.ReadinessGates) > 0 {
		d.w(0, "Readiness Gates:\n  Type\tStatus\n")
		for _, g := range p.Spec.ReadinessGates {
			status := none
			for _, c := range p.Status.Conditions {
				if c.Type == g.ConditionType {
					status = string(c.Status)
				}
			}
			d.w(1, "%s \t%s \n", g.ConditionType, status)
		}
	}
	if len(p.Status.Conditions) > 0 {
		d.w(0, "Conditions:\n  Type\tStatus\n")
		for _, c := range p.Status.Conditions {
			d.w(1, "%s \t%s \n", c.Type, c.Status)
		}
	}
	d.volumes("", p.Spec.Volumes)
	qos := p.Status.QOSClass
	if qos == "" {
		qos = podQOS(&p.Spec)
	}
	d.w(0, "QoS Class:\t%s\n", qos)
	d.labels("", "Node-Selectors", p.Spec.NodeSelector)
	d.tolerations("", p.Spec.Tolerations)
	d.events()
}

// podTemplate is the "Pod Template:" section of workload pages.
func (d *describer) podTemplate(t *corev1.PodTemplateSpec) {
	d.w(0, "Pod Template:\n")
	d.labels("  ", "Labels", t.Labels)
	if len(t.Annotations) > 0 {
		d.annotations("  ", "Annotations", t.Annotations)
	}
	if t.Spec.ServiceAccountName != "" {
		d.w(1, "Service Account:\t%s\n", t.Spec.ServiceAccountName)
	}
	if len(t.Spec.InitContainers) > 0 {
		d.containers("  ", "Init Containers", t.Spec.InitContainers, nil, nil)
	}
	d.containers("  ", "Containers", t.Spec.Containers, nil, nil)
	d.volumes("  ", t.Spec.Volumes)
	if t.Spec.PriorityClassName != "" {
		d.w(1, "Priority Class Name:\t%s\n", t.Spec.PriorityClassName)
	}
	d.labels("  ", "Node-Selectors", t.Spec.NodeSelector)
	d.tolerations("  ", t.Spec.Tolerations)
}

// tolerations lists tolerations as "key=value:Effect op=Exists for 300s".
func (d *describer) tolerations(indent string, ts []corev1.Toleration) {
	d.w(0, "%sTolerations:\t", indent)
	if len(ts) == 0 {
		d.w(0, "%s\n", none)
		return
	}
	sorted := append([]corev1.Toleration(nil), ts...)
	sortStable(sorted, func(a, b corev1.Toleration) bool { return a.Key < b.Key })
	for i, t := range sorted {
		if i > 0 {
			d.w(0, "%s\t", indent)
		}
		var b strings.Builder
		b.WriteString(t.Key)
		if t.Value != "" {
			b.WriteString("=" + t.Value)
		}
		if t.Effect != "" {
			b.WriteString(":" + string(t.Effect))
		}
		if t.Operator == corev1.TolerationOpExists && t.Value == "" {
			if t.Key != "" || t.Effect != "" {
				b.WriteString(" ")
			}
			b.WriteString("op=Exists")
		}
		if t.TolerationSeconds != nil {
			fmt.Fprintf(&b, " for %ds", *t.TolerationSeconds)
		}
		d.w(0, "%s\n", b.String())
	}
}

// podQOS computes a pod's QoS class when its status has none.
func podQOS(spec *corev1.PodSpec) corev1.PodQOSClass {
	all := append(append([]corev1.Container(nil), spec.InitContainers...), spec.Containers...)
	any, guaranteed := false, true
	for _, c := range all {
		req, lim := c.Resources.Requests, c.Resources.Limits
		if len(req) > 0 || len(lim) > 0 {
			any = true
		}
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			l, hasLimit := lim[r]
			if !hasLimit {
				guaranteed = false
				continue
			}
			if q, ok := req[r]; ok && q.Cmp(l) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !any:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	default:
		return corev1.PodQOSBurstable
	}
}
