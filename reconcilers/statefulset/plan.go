package statefulset

import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/strom-project/strom/reconcilers/replicaset"
)

// Rev names a revision and the template it holds.
type Rev struct {
	Name     string
	Template *corev1.PodTemplateSpec
}

// Input is the state one plan reads.
type Input struct {
	Set *appsv1.StatefulSet
	// Pods are the pods the set controls (controller owner reference).
	Pods []*corev1.Pod
	// Claims are the existing claims in the set's namespace, by name
	// (at least those the set's templates name).
	Claims map[string]*corev1.PersistentVolumeClaim
	// Current is the revision of status.currentRevision (the update
	// revision when there is none yet); Update holds the set's template.
	Current, Update Rev
	CollisionCount  *int32
	Now             time.Time
}

// Plan is what a StatefulSet needs done, in order: claims, then pods.
type Plan struct {
	CreateClaims []*corev1.PersistentVolumeClaim
	// UpdateClaims are claims given an owner reference to the pod that
	// is scaled away (whenScaled: Delete).
	UpdateClaims []*corev1.PersistentVolumeClaim
	Create       []*corev1.Pod
	Delete       []*corev1.Pod
	Status       appsv1.StatefulSetStatus
	// RequeueAfter asks for another plan then (a pod becomes available
	// after minReadySeconds).
	RequeueAfter time.Duration
}

// replicas is spec.replicas (1 when unset).
func replicas(ss *appsv1.StatefulSet) int {
	if ss.Spec.Replicas == nil {
		return 1
	}
	return int(*ss.Spec.Replicas)
}

func start(ss *appsv1.StatefulSet) int {
	if o := ss.Spec.Ordinals; o != nil && o.Start > 0 {
		return int(o.Start)
	}
	return 0
}

func partition(ss *appsv1.StatefulSet) int {
	if ru := ss.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
		return int(*ru.Partition)
	}
	return 0
}

func terminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }

func finished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

func runningReady(p *corev1.Pod) bool {
	ready, _ := replicaset.PodReady(p)
	return p.Status.Phase == corev1.PodRunning && ready
}

// healthy: Running, Ready and not being deleted.
func healthy(p *corev1.Pod) bool { return p != nil && runningReady(p) && !terminating(p) }

// available: healthy for minReadySeconds at now; else the wait until
// then (0 when never without a change).
func available(p *corev1.Pod, minReady int32, now time.Time) (bool, time.Duration) {
	if !healthy(p) {
		return false, 0
	}
	if replicaset.PodAvailable(p, minReady, now) {
		return true, 0
	}
	_, since := replicaset.PodReady(p)
	return false, since.Add(time.Duration(minReady) * time.Second).Sub(now)
}

// Sync plans in, following Kubernetes' StatefulSet control loop: the
// pods of the desired ordinals first (lowest first), then those of
// ordinals out of range (highest first), then the rolling update. Under
// OrderedReady every step stops at the first pod that is not yet
// healthy; Parallel goes on.
func Sync(in Input) Plan {
	ss := in.Set
	monotonic := ss.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	n, first := replicas(ss), start(ss)
	want := make([]*corev1.Pod, n) // by ordinal-first
	var condemned []*corev1.Pod
	for _, p := range in.Pods {
		o := Ordinal(ss, p)
		switch {
		case o >= first && o < first+n:
			want[o-first] = p
		default:
			condemned = append(condemned, p) // includes misnamed pods
		}
	}
	sort.Slice(condemned, func(i, j int) bool { return Ordinal(ss, condemned[i]) > Ordinal(ss, condemned[j]) })

	var plan Plan
	plan.Status, plan.RequeueAfter = status(ss, in, want, condemned)
	cur := in.Current
	if cur.Name == "" {
		cur = in.Update
	}
	part := partition(ss)
	rolling := ss.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType

	// Claims of every live desired pod (and of each pod about to be made).
	claims := func(o int) {
		for i := range ss.Spec.VolumeClaimTemplates {
			c := &ss.Spec.VolumeClaimTemplates[i]
			if _, ok := in.Claims[ClaimName(c.Name, ss, o)]; !ok {
				plan.CreateClaims = append(plan.CreateClaims, newClaim(ss, c, o))
			}
		}
	}
	blocked := false
	for i, p := range want {
		o := first + i
		if p != nil && finished(p) && !terminating(p) {
			plan.Delete = append(plan.Delete, p) // recreated under its name once gone
			if monotonic {
				blocked = true
				break
			}
			continue
		}
		if p == nil {
			// A replaced pod comes back at the current revision below
			// the partition (or, unpartitioned, among the pods not yet
			// updated), else at the update revision.
			rev := in.Update
			if rolling && ((part == 0 && i < int(plan.Status.CurrentReplicas)) || i < part) {
				rev = cur
			}
			claims(o)
			plan.Create = append(plan.Create, newPod(ss, rev.Template, o, rev.Name))
			if monotonic {
				blocked = true
				break
			}
			continue
		}
		claims(o)
		if terminating(p) && monotonic {
			blocked = true
			break
		}
		if ok, _ := available(p, ss.Spec.MinReadySeconds, in.Now); !ok && monotonic {
			blocked = true
			break
		}
	}
	if blocked {
		return plan
	}

	// Ordinals out of range go from the highest; under OrderedReady one
	// at a time and only when every lower pod is healthy.
	for i, p := range condemned {
		if terminating(p) {
			if monotonic {
				return plan
			}
			continue
		}
		if monotonic && !healthy(p) {
			for _, lower := range condemned[i+1:] {
				if !healthy(lower) {
					return plan
				}
			}
		}
		plan.UpdateClaims = append(plan.UpdateClaims, scaledClaims(ss, in.Claims, p)...)
		plan.Delete = append(plan.Delete, p)
		if monotonic {
			return plan
		}
	}
	if len(condemned) > 0 && monotonic {
		return plan
	}
	if !rolling {
		return plan
	}
	if ru := ss.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.MaxUnavailable != nil {
		plan.Delete = append(plan.Delete, rollUnavailable(ss, want, part, in.Update.Name, in.Now)...)
		return plan
	}
	// The rolling update: from the highest ordinal down to the
	// partition, delete one pod of another revision, and wait for each
	// replaced pod to be healthy again.
	for i := n - 1; i >= part && i >= 0; i-- {
		p := want[i]
		if p == nil {
			return plan
		}
		if Revision(p) != in.Update.Name && !terminating(p) {
			plan.Delete = append(plan.Delete, p)
			return plan
		}
		if !healthy(p) {
			return plan
		}
	}
	return plan
}

// rollUnavailable is the rolling update with maxUnavailable (Kubernetes'
// MaxUnavailableStatefulSet): as many outdated pods at or above the
// partition go, highest first, as keep at most maxUnavailable of the
// desired pods unavailable.
func rollUnavailable(ss *appsv1.StatefulSet, want []*corev1.Pod, part int, update string, now time.Time) []*corev1.Pod {
	n := len(want)
	maxU, err := intstr.GetScaledValueFromIntOrPercent(ss.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable, n, true)
	if err != nil || maxU < 1 {
		maxU = 1
	}
	unavailable := 0
	for _, p := range want {
		if ok, _ := available(p, ss.Spec.MinReadySeconds, now); !ok {
			unavailable++
		}
	}
	var del []*corev1.Pod
	for i := n - 1; i >= part && i >= 0 && unavailable < maxU; i-- {
		p := want[i]
		if p == nil || terminating(p) || Revision(p) == update {
			continue
		}
		del = append(del, p)
		if ok, _ := available(p, ss.Spec.MinReadySeconds, now); ok {
			unavailable++
		}
	}
	return del
}

// scaledClaims are p's claims to give an owner reference to p, so that
// they go with it, when whenScaled is Delete.
func scaledClaims(ss *appsv1.StatefulSet, have map[string]*corev1.PersistentVolumeClaim, p *corev1.Pod) []*corev1.PersistentVolumeClaim {
	pol := ss.Spec.PersistentVolumeClaimRetentionPolicy
	if pol == nil || pol.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType || p.UID == "" {
		return nil
	}
	o := Ordinal(ss, p)
	if o < 0 {
		return nil
	}
	var out []*corev1.PersistentVolumeClaim
	for _, c := range ss.Spec.VolumeClaimTemplates {
		pvc, ok := have[ClaimName(c.Name, ss, o)]
		if !ok || hasRef(pvc.OwnerReferences, string(p.UID)) {
			continue
		}
		next := pvc.DeepCopy()
		next.OwnerReferences = append(next.OwnerReferences, podRef(p))
		out = append(out, next)
	}
	return out
}

// status is Kubernetes' StatefulSet status over the set's pods: the
// current revision becomes the update revision once a RollingUpdate has
// every replica updated and ready (under OnDelete, as in Kubernetes, it
// stays).
func status(ss *appsv1.StatefulSet, in Input, want, condemned []*corev1.Pod) (appsv1.StatefulSetStatus, time.Duration) {
	s := appsv1.StatefulSetStatus{
		ObservedGeneration: ss.Generation,
		CollisionCount:     in.CollisionCount,
		CurrentRevision:    in.Current.Name,
		UpdateRevision:     in.Update.Name,
		Conditions:         ss.Status.Conditions,
	}
	if s.CurrentRevision == "" {
		s.CurrentRevision = s.UpdateRevision
	}
	var wait time.Duration
	count := func(p *corev1.Pod) {
		if p == nil {
			return
		}
		s.Replicas++ // as Kubernetes counts: terminating pods too
		if runningReady(p) {
			s.ReadyReplicas++
			if ok, d := available(p, ss.Spec.MinReadySeconds, in.Now); ok {
				s.AvailableReplicas++
			} else if d > 0 && (wait == 0 || d < wait) {
				wait = d
			}
		}
		if terminating(p) {
			return
		}
		if Revision(p) == s.CurrentRevision {
			s.CurrentReplicas++
		}
		if Revision(p) == s.UpdateRevision {
			s.UpdatedReplicas++
		}
	}
	for _, p := range want {
		count(p)
	}
	for _, p := range condemned {
		count(p)
	}
	n := int32(replicas(ss))
	if ss.Spec.UpdateStrategy.Type != appsv1.OnDeleteStatefulSetStrategyType &&
		s.UpdatedReplicas == n && s.ReadyReplicas == n && s.Replicas == n {
		s.CurrentRevision, s.CurrentReplicas = s.UpdateRevision, s.UpdatedReplicas
	}
	return s, wait
}
