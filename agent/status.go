package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/kubeevents"
)

// Status is how pod managers report: pod status and termination go
// through the API's write path, Events through the recorder. It also reads
// the ConfigMaps and Secrets pods reference.
type Status struct {
	client *api.Client
	rec    *kubeevents.Recorder
	clock  clock.PassiveClock

	mu    sync.Mutex
	cache map[string]cached // pod workers re-read referenced objects every second

	ready *readiness // the node's Ready condition; nil for a Status without a node
}

// ReportRuntime reports the container runtime's health (err nil: it
// answers) in the node's Ready condition; only changes are written.
func (s *Status) ReportRuntime(ctx context.Context, err error) {
	if s.ready != nil {
		reportRuntime(ctx, s.ready, err)
	}
}

type cached struct {
	data []byte
	err  error
	at   time.Time
}

// objectTTL bounds how stale a referenced ConfigMap or Secret may be.
const objectTTL = 2 * time.Second

// UpdatePodStatus writes the pod's status.
func (s *Status) UpdatePodStatus(ctx context.Context, pod *corev1.Pod) error {
	p := pod.DeepCopy()
	p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	p.ResourceVersion = "" // status is the node's to write: last writer wins
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if _, err := s.client.Do(ctx, api.VerbStatus, &api.Request{Object: data, Namespace: p.Namespace}); err != nil {
		return fmt.Errorf("updating status of pod %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// PodTerminated removes a pod whose deletion the node has carried out.
func (s *Status) PodTerminated(ctx context.Context, pod *corev1.Pod) error {
	_, err := s.client.Do(ctx, api.VerbDelete, &api.Request{Resource: "pods", Namespace: pod.Namespace, Name: pod.Name,
		Params: map[string]string{"final": "true"}})
	if err != nil && !events.IsNotFound(err) {
		return fmt.Errorf("removing terminated pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// Event records a Kubernetes Event about a pod.
func (s *Status) Event(ctx context.Context, pod *corev1.Pod, eventType, reason, message string) {
	p := pod.DeepCopy()
	p.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	s.rec.Record(ctx, p, eventType, reason, message)
}

// ConfigMap reads a ConfigMap; the error is NotFound when it is missing.
func (s *Status) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	var cm corev1.ConfigMap
	return &cm, s.get(ctx, "configmaps", namespace, name, &cm)
}

// Secret reads a Secret; the error is NotFound when it is missing.
func (s *Status) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	var sec corev1.Secret
	return &sec, s.get(ctx, "secrets", namespace, name, &sec)
}

func (s *Status) get(ctx context.Context, resource, ns, name string, into any) error {
	key := resource + "/" + ns + "/" + name
	now := s.clock.Now()
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if !ok || now.Sub(c.at) > objectTTL {
		c = cached{at: now}
		resp, err := s.client.Do(ctx, api.VerbGet, &api.Request{Resource: resource, Namespace: ns, Name: name})
		if err != nil && !events.IsNotFound(err) {
			return err // not cached: transient
		}
		c.err = err
		if resp != nil {
			c.data = resp.Object
		}
		s.mu.Lock()
		if s.cache == nil {
			s.cache = map[string]cached{}
		}
		s.cache[key] = c
		s.mu.Unlock()
	}
	if c.err != nil {
		return c.err
	}
	return json.Unmarshal(c.data, into)
}
