package events

import (
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	resourcev1 "k8s.io/api/resource/v1"

	"github.com/strom-project/strom/events/objects"
)

// TestNodeNameIndexed: the view indexes spec.nodeName of every kind that
// has one, whether a string, a named string or a pointer to one.
func TestNodeNameIndexed(t *testing.T) {
	node := "node-1"
	for _, c := range []struct {
		obj  objects.Object
		want string
	}{
		{&corev1.Pod{Spec: corev1.PodSpec{NodeName: node}}, node},
		{&certificatesv1.PodCertificateRequest{Spec: certificatesv1.PodCertificateRequestSpec{NodeName: "node-1"}}, node},
		{&resourcev1.ResourceSlice{Spec: resourcev1.ResourceSliceSpec{NodeName: &node}}, node},
		{&resourcev1.ResourceSlice{}, ""},
		{&corev1.ConfigMap{}, ""},
	} {
		if got := podNodeName(c.obj); got != c.want {
			t.Errorf("%T: node %q, want %q", c.obj, got, c.want)
		}
	}
}
