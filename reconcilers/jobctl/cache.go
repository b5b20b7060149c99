package jobctl

import (
	"fmt"
	"sync"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/strom-project/strom/projections"
)

// podCache keeps each Job's pods decoded, by name with the sequence of
// the version decoded: a Job keeps its finished pods, so a large Job's
// every reconcile would otherwise decode thousands of unchanged pods.
// Cached pods are shared and never modified (the planner copies what it
// changes).
type podCache struct {
	mu   sync.Mutex // guards jobs
	jobs map[types.UID]map[string]cachedPod
	keys map[string]types.UID // "ns/name" -> the uid cached for it
}

type cachedPod struct {
	seq uint64
	pod *corev1.Pod
}

// pods returns the pods j owns, decoding only those that changed since
// the last call; pods gone from the Store leave the cache.
func (c *podCache) pods(st *projections.Store, j *batchv1.Job) ([]*corev1.Pod, error) {
	items, _ := st.List(projections.Query{Resource: "pods", Namespace: j.Namespace,
		Fields: fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(j.UID))})
	c.mu.Lock()
	old := c.jobs[j.UID]
	c.mu.Unlock()
	next := make(map[string]cachedPod, len(items))
	out := make([]*corev1.Pod, 0, len(items))
	for _, e := range items {
		cp, ok := old[e.Name]
		if !ok || cp.seq != e.Seq {
			obj, err := e.Object()
			if err != nil {
				return nil, fmt.Errorf("decoding pod %s: %w", e.Key(), err)
			}
			pod, ok := obj.(*corev1.Pod)
			if !ok {
				return nil, fmt.Errorf("pod %s: unexpected type %T", e.Key(), obj)
			}
			cp = cachedPod{seq: e.Seq, pod: pod}
		}
		next[e.Name] = cp
		out = append(out, cp.pod)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]types.UID{}
	}
	key := j.Namespace + "/" + j.Name
	if prev, ok := c.keys[key]; ok && prev != j.UID {
		delete(c.jobs, prev) // the Job was recreated
	}
	c.keys[key] = j.UID
	c.jobs[j.UID] = next
	return out, nil
}

// forget drops a Job that is gone and returns the uid it was cached
// under ("" if it was not).
func (c *podCache) forget(ns, name string) types.UID {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := ns + "/" + name
	uid, ok := c.keys[key]
	if ok {
		delete(c.jobs, uid)
		delete(c.keys, key)
	}
	return uid
}
