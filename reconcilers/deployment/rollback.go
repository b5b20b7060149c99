package deployment

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// TemplateForRevision returns the pod template to restore for
// "rollout undo --to-revision=N": the template of the owned ReplicaSet
// whose revision is N, or with N = 0 the one before the newest revision,
// without the pod-template-hash label. Set it as the Deployment's
// spec.template; the next Plan turns that ReplicaSet into the new one and
// gives it the next revision number.
func TemplateForRevision(rss []*appsv1.ReplicaSet, revision int64) (*corev1.PodTemplateSpec, error) {
	if revision < 0 {
		return nil, fmt.Errorf("revision %d: must not be negative", revision)
	}
	target := revision
	if target == 0 {
		var newest, previous int64
		for _, rs := range rss {
			switch r := Revision(rs); {
			case r > newest:
				newest, previous = r, newest
			case r > previous && r < newest:
				previous = r
			}
		}
		if previous == 0 {
			return nil, fmt.Errorf("no rollout history found")
		}
		target = previous
	}
	for _, rs := range rss {
		if Revision(rs) == target {
			t := rs.Spec.Template.DeepCopy()
			delete(t.Labels, PodTemplateHashLabel)
			return t, nil
		}
	}
	return nil, fmt.Errorf("unable to find specified revision %d in history", target)
}
