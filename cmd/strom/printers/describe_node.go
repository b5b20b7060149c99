package printers

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func (d *describer) node(n *corev1.Node) {
	d.w(0, "Name:\t%s\n", n.Name)
	d.w(0, "Roles:\t%s\n", orNone(strings.Join(nodeRoles(n), ",")))
	d.labels("", "Labels", n.Labels)
	d.annotations("", "Annotations", n.Annotations)
	d.w(0, "CreationTimestamp:\t%s\n", rfc1123(n.CreationTimestamp))
	d.w(0, "Taints:\t")
	if len(n.Spec.Taints) == 0 {
		d.w(0, "%s\n", none)
	}
	for i, t := range n.Spec.Taints {
		if i > 0 {
			d.w(0, "\t")
		}
		d.w(0, "%s\n", t.ToString())
	}
	d.w(0, "Unschedulable:\t%t\n", n.Spec.Unschedulable)
	if len(n.Status.Conditions) > 0 {
		d.w(0, "Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
		d.w(1, "----\t------\t-----------------\t------------------\t------\t-------\n")
		for _, c := range n.Status.Conditions {
			d.w(1, "%s \t%s \t%s \t%s \t%s \t%s\n", c.Type, c.Status,
				rfc1123(c.LastHeartbeatTime), rfc1123(c.LastTransitionTime), c.Reason, c.Message)
		}
	}
	d.w(0, "Addresses:\n")
	for _, a := range n.Status.Addresses {
		d.w(1, "%s:\t%s\n", a.Type, a.Address)
	}
	for _, l := range []struct {
		title string
		list  corev1.ResourceList
	}{{"Capacity", n.Status.Capacity}, {"Allocatable", n.Status.Allocatable}} {
		if len(l.list) == 0 {
			continue
		}
		d.w(0, "%s:\n", l.title)
		for _, name := range sortedResourceNames(l.list) {
			q := l.list[name]
			d.w(1, "%s:\t%s\n", name, q.String())
		}
	}
	info := n.Status.NodeInfo
	d.w(0, "System Info:\n")
	d.w(1, "Machine ID:\t%s\n", info.MachineID)
	d.w(1, "System UUID:\t%s\n", info.SystemUUID)
	d.w(1, "Boot ID:\t%s\n", info.BootID)
	d.w(1, "Kernel Version:\t%s\n", info.KernelVersion)
	d.w(1, "OS Image:\t%s\n", info.OSImage)
	d.w(1, "Operating System:\t%s\n", info.OperatingSystem)
	d.w(1, "Architecture:\t%s\n", info.Architecture)
	d.w(1, "Container Runtime Version:\t%s\n", info.ContainerRuntimeVersion)
	d.w(1, "Kubelet Version:\t%s\n", info.KubeletVersion)
	d.w(1, "Kube-Proxy Version:\t%s\n", info.KubeProxyVersion) //nolint:staticcheck // kubectl still prints it
	if n.Spec.PodCIDR != "" {
		d.w(0, "PodCIDR:\t%s\n", n.Spec.PodCIDR)
	}
	if len(n.Spec.PodCIDRs) > 0 {
		d.w(0, "PodCIDRs:\t%s\n", strings.Join(n.Spec.PodCIDRs, ","))
	}
	if n.Spec.ProviderID != "" {
		d.w(0, "ProviderID:\t%s\n", n.Spec.ProviderID)
	}
	if d.rel.Pods != nil {
		d.nodePods(n)
	}
	d.events()
}

// nodePods is the "Non-terminated Pods" and "Allocated resources" tables.
func (d *describer) nodePods(n *corev1.Node) {
	var pods []*corev1.Pod
	for _, p := range d.rel.Pods {
		if p.Spec.NodeName == n.Name && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			pods = append(pods, p)
		}
	}
	alloc := n.Status.Capacity
	if len(n.Status.Allocatable) > 0 {
		alloc = n.Status.Allocatable
	}
	pct := func(q resource.Quantity, r corev1.ResourceName) int64 {
		total, ok := alloc[r]
		if !ok || total.IsZero() {
			return 0
		}
		if r == corev1.ResourceCPU {
			return int64(float64(q.MilliValue()) / float64(total.MilliValue()) * 100)
		}
		return int64(float64(q.Value()) / float64(total.Value()) * 100)
	}
	d.w(0, "Non-terminated Pods:\t(%d in total)\n", len(pods))
	d.w(1, "Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
	d.w(1, "---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
	totalReq, totalLim := corev1.ResourceList{}, corev1.ResourceList{}
	for _, p := range pods {
		req, lim := podRequestsLimits(p)
		addInto(totalReq, req)
		addInto(totalLim, lim)
		cr, cl, mr, ml := req[corev1.ResourceCPU], lim[corev1.ResourceCPU], req[corev1.ResourceMemory], lim[corev1.ResourceMemory]
		d.w(1, "%s\t%s\t\t%s (%d%%)\t%s (%d%%)\t%s (%d%%)\t%s (%d%%)\t%s\n", p.Namespace, p.Name,
			cr.String(), pct(cr, corev1.ResourceCPU), cl.String(), pct(cl, corev1.ResourceCPU),
			mr.String(), pct(mr, corev1.ResourceMemory), ml.String(), pct(ml, corev1.ResourceMemory),
			age(p.CreationTimestamp, d.now))
	}
	d.w(0, "Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
	d.w(1, "Resource\tRequests\tLimits\n")
	d.w(1, "--------\t--------\t------\n")
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
		req, lim := totalReq[r], totalLim[r]
		d.w(1, "%s\t%s (%d%%)\t%s (%d%%)\n", r, req.String(), pct(req, r), lim.String(), pct(lim, r))
	}
}

// podRequestsLimits is a pod's effective requests and limits: the sum
// over its containers, or the largest init container's when that is more.
func podRequestsLimits(p *corev1.Pod) (req, lim corev1.ResourceList) {
	req, lim = corev1.ResourceList{}, corev1.ResourceList{}
	for _, c := range p.Spec.Containers {
		addInto(req, c.Resources.Requests)
		addInto(lim, c.Resources.Limits)
	}
	for _, c := range p.Spec.InitContainers {
		maxInto(req, c.Resources.Requests)
		maxInto(lim, c.Resources.Limits)
	}
	return req, lim
}

func addInto(dst, src corev1.ResourceList) {
	for name, q := range src {
		sum := dst[name]
		sum.Add(q)
		dst[name] = sum
	}
}

func maxInto(dst, src corev1.ResourceList) {
	for name, q := range src {
		if cur, ok := dst[name]; !ok || q.Cmp(cur) > 0 {
			dst[name] = q.DeepCopy()
		}
	}
}
