package objects

import (
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
)

// defaultStored applies Kubernetes' defaults to the kinds Strom stores
// without acting on them (validate_stored.go) where what a client reads
// back, or a table shows, depends on them: an EndpointSlice's ports, a
// StorageClass's reclaim policy and binding mode, a PriorityClass's
// preemption policy, the flow-control defaults. The other stored-only
// kinds are kept as written: their defaults matter only to controllers
// Strom does not run.
func defaultStored(obj Object) {
	switch o := obj.(type) {
	case *discoveryv1.EndpointSlice:
		for i := range o.Ports {
			setIfNil(&o.Ports[i].Name, "")
			setIfNil(&o.Ports[i].Protocol, corev1.ProtocolTCP)
		}
	case *storagev1.StorageClass:
		setIfNil(&o.ReclaimPolicy, corev1.PersistentVolumeReclaimDelete)
		setIfNil(&o.VolumeBindingMode, storagev1.VolumeBindingImmediate)
	case *schedulingv1.PriorityClass:
		setIfNil(&o.PreemptionPolicy, corev1.PreemptLowerPriority)
	case *flowcontrolv1.FlowSchema:
		if o.Spec.MatchingPrecedence == 0 {
			o.Spec.MatchingPrecedence = 1000
		}
	case *flowcontrolv1.PriorityLevelConfiguration:
		defaultPriorityLevel(&o.Spec)
	}
}

// Kubernetes' flow-control defaults: a limited level's 30 nominal shares
// and 64 queues of 50 requests with hands of 8; nothing lent.
func defaultPriorityLevel(s *flowcontrolv1.PriorityLevelConfigurationSpec) {
	if e := s.Exempt; e != nil {
		setIfNil(&e.NominalConcurrencyShares, 0)
		setIfNil(&e.LendablePercent, 0)
	}
	l := s.Limited
	if l == nil {
		return
	}
	setIfNil(&l.NominalConcurrencyShares, 30)
	setIfNil(&l.LendablePercent, 0)
	if q := l.LimitResponse.Queuing; q != nil {
		for _, f := range []struct {
			v   *int32
			def int32
		}{{&q.Queues, 64}, {&q.HandSize, 8}, {&q.QueueLengthLimit, 50}} {
			if *f.v == 0 {
				*f.v = f.def
			}
		}
	}
}
