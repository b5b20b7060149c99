package app

import (
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/projections"
)

// viewCluster answers Pod Security admission's reads from the live view.
type viewCluster struct{ p *projections.Projection }

// GetNamespace is the namespace, or one without labels when it does not
// exist (the write path then refuses the write with its own NotFound).
func (v viewCluster) GetNamespace(_ context.Context, name string) (*corev1.Namespace, error) {
	e, ok := v.p.Store().Get("namespaces", "", name)
	if !ok {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, nil
	}
	var ns corev1.Namespace
	if err := json.Unmarshal(e.JSON(), &ns); err != nil {
		return nil, fmt.Errorf("decoding namespace %s: %w", name, err)
	}
	return &ns, nil
}

// ListPods lists the namespace's pods.
func (v viewCluster) ListPods(_ context.Context, namespace string) ([]*corev1.Pod, error) {
	entries, _ := v.p.Store().List(projections.Query{Resource: "pods", Namespace: namespace})
	pods := make([]*corev1.Pod, 0, len(entries))
	for _, e := range entries {
		var p corev1.Pod
		if err := json.Unmarshal(e.JSON(), &p); err != nil {
			return nil, fmt.Errorf("decoding pod %s/%s: %w", e.Namespace, e.Name, err)
		}
		pods = append(pods, &p)
	}
	return pods, nil
}
