package scheduler

import (
	corev1 "k8s.io/api/core/v1"
)

// Default requests Kubernetes assumes, for scoring only, for containers that
// request nothing.
const (
	defaultMilliCPU int64 = 100
	defaultMemory   int64 = 200 * 1024 * 1024
)

// Resources is an amount of cpu (millicores), memory (bytes), pods and other
// resources (their Value()).
type Resources struct {
	MilliCPU int64
	Memory   int64
	Pods     int64
	Scalar   map[corev1.ResourceName]int64
}

// addList adds a ResourceList (pods counts are not in container requests).
func (r *Resources) addList(l corev1.ResourceList) {
	for name, q := range l {
		switch name {
		case corev1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case corev1.ResourceMemory:
			r.Memory += q.Value()
		case corev1.ResourcePods:
			r.Pods += q.Value()
		default:
			if r.Scalar == nil {
				r.Scalar = map[corev1.ResourceName]int64{}
			}
			r.Scalar[name] += q.Value()
		}
	}
}

// add adds o to r.
func (r *Resources) add(o Resources) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.Pods += o.Pods
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[k] += v
	}
}

// sub subtracts o from r.
func (r *Resources) sub(o Resources) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.Pods -= o.Pods
	for k, v := range o.Scalar {
		r.Scalar[k] -= v
		if r.Scalar[k] == 0 {
			delete(r.Scalar, k)
		}
	}
}

// max raises every amount of r to at least o's.
func (r *Resources) max(o Resources) {
	r.MilliCPU = max(r.MilliCPU, o.MilliCPU)
	r.Memory = max(r.Memory, o.Memory)
	r.Pods = max(r.Pods, o.Pods)
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		if v > r.Scalar[k] {
			r.Scalar[k] = v
		}
	}
}

func (r Resources) clone() Resources {
	c := r
	c.Scalar = nil
	for k, v := range r.Scalar {
		if c.Scalar == nil {
			c.Scalar = make(map[corev1.ResourceName]int64, len(r.Scalar))
		}
		c.Scalar[k] = v
	}
	return c
}

// PodRequests returns what pod needs on a node, as Kubernetes computes it:
// the sum of its containers' requests, raised to the largest init
// container's (restartable init containers run beside the others, so they
// add up), plus spec.overhead, plus one pod.
func PodRequests(pod *corev1.Pod) Resources {
	return podRequests(pod, func(c *corev1.Container) corev1.ResourceList { return c.Resources.Requests })
}

// podNonZeroRequests is PodRequests with Kubernetes' scoring defaults for
// containers that request no cpu or memory.
func podNonZeroRequests(pod *corev1.Pod) Resources {
	return podRequests(pod, func(c *corev1.Container) corev1.ResourceList {
		req := c.Resources.Requests
		_, hasCPU := req[corev1.ResourceCPU]
		_, hasMem := req[corev1.ResourceMemory]
		if hasCPU && hasMem {
			return req
		}
		out := make(corev1.ResourceList, len(req)+2)
		for k, v := range req {
			out[k] = v
		}
		if !hasCPU {
			out[corev1.ResourceCPU] = *resourceMilli(defaultMilliCPU)
		}
		if !hasMem {
			out[corev1.ResourceMemory] = *resourceBytes(defaultMemory)
		}
		return out
	})
}

func podRequests(pod *corev1.Pod, requests func(*corev1.Container) corev1.ResourceList) Resources {
	var reqs Resources
	for i := range pod.Spec.Containers {
		reqs.addList(requests(&pod.Spec.Containers[i]))
	}
	var sidecars, initMax Resources
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		var need Resources
		need.addList(requests(c))
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			reqs.add(need)
			sidecars.add(need)
			need = sidecars.clone()
		} else {
			need.add(sidecars)
		}
		initMax.max(need)
	}
	reqs.max(initMax)
	reqs.addList(pod.Spec.Overhead)
	reqs.Pods = 1
	return reqs
}

// NodeAllocatable returns node's status.allocatable as Resources.
func NodeAllocatable(node *corev1.Node) Resources {
	var r Resources
	r.addList(node.Status.Allocatable)
	return r
}
