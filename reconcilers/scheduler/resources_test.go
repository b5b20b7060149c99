package scheduler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func container(cpu, mem string) corev1.Container {
	return corev1.Container{Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}
}

func TestPodRequests(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	sidecar := func(c corev1.Container) corev1.Container { c.RestartPolicy = &always; return c }
	mi := int64(1 << 20)
	tests := []struct {
		name    string
		spec    corev1.PodSpec
		wantCPU int64
		wantMem int64
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{container("100m", "10Mi"), container("200m", "20Mi")}}, 300, 30 * mi},
		{"init container larger wins", corev1.PodSpec{
			Containers:     []corev1.Container{container("100m", "10Mi")},
			InitContainers: []corev1.Container{container("1", "5Mi")}}, 1000, 10 * mi},
		{"init containers are a max, not a sum", corev1.PodSpec{
			Containers:     []corev1.Container{container("100m", "10Mi")},
			InitContainers: []corev1.Container{container("500m", "5Mi"), container("400m", "50Mi")}}, 500, 50 * mi},
		{"sidecars add to containers and to later init containers", corev1.PodSpec{
			Containers:     []corev1.Container{container("100m", "10Mi")},
			InitContainers: []corev1.Container{sidecar(container("200m", "20Mi")), container("250m", "1Mi")}}, 450, 30 * mi},
		{"overhead", corev1.PodSpec{
			Containers: []corev1.Container{container("100m", "10Mi")},
			Overhead:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")}}, 150, 10 * mi},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := PodRequests(&corev1.Pod{Spec: tt.spec})
			if r.MilliCPU != tt.wantCPU || r.Memory != tt.wantMem || r.Pods != 1 {
				t.Fatalf("PodRequests = cpu %dm mem %d pods %d, want cpu %dm mem %d pods 1", r.MilliCPU, r.Memory, r.Pods, tt.wantCPU, tt.wantMem)
			}
		})
	}
	nz := podNonZeroRequests(&corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{}, container("1", "1Gi")}}})
	if nz.MilliCPU != 1100 || nz.Memory != 200*mi+1024*mi {
		t.Fatalf("non-zero requests = %dm %d", nz.MilliCPU, nz.Memory)
	}
}
