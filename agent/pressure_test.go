package agent

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestPressureThresholds(t *testing.T) {
	healthy := PressureSample{MemoryAvailable: 4 << 30, NodeFSAvailable: 50, NodeFSSize: 100, NodeFSInodesFree: 50, NodeFSInodes: 100,
		ImageFSAvailable: 50, ImageFSSize: 100, ProcessesInUse: 300, ProcessesMax: 4194304}
	th := DefaultPressureThresholds
	tests := []struct {
		name   string
		change func(*PressureSample)
		want   Pressures
	}{
		{"healthy", func(*PressureSample) {}, Pressures{}},
		{"memory below 100Mi", func(s *PressureSample) { s.MemoryAvailable = 99 << 20 }, Pressures{Memory: true}},
		{"memory at 100Mi", func(s *PressureSample) { s.MemoryAvailable = 100 << 20 }, Pressures{}},
		{"nodefs below 10%", func(s *PressureSample) { s.NodeFSAvailable = 9 }, Pressures{Disk: true}},
		{"nodefs at 10%", func(s *PressureSample) { s.NodeFSAvailable = 10 }, Pressures{}},
		{"nodefs inodes below 5%", func(s *PressureSample) { s.NodeFSInodesFree = 4 }, Pressures{Disk: true}},
		{"imagefs below 15%", func(s *PressureSample) { s.ImageFSAvailable = 14 }, Pressures{Disk: true}},
		{"no imagefs measured", func(s *PressureSample) { s.ImageFSAvailable, s.ImageFSSize = 0, 0 }, Pressures{}},
		{"pids below 5%", func(s *PressureSample) { s.ProcessesMax, s.ProcessesInUse = 1000, 960 }, Pressures{PID: true}},
		{"pids unknown", func(s *PressureSample) { s.ProcessesMax = 0 }, Pressures{}},
		{"all", func(s *PressureSample) { s.MemoryAvailable, s.NodeFSAvailable, s.ProcessesInUse = 0, 0, s.ProcessesMax }, Pressures{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := healthy
			tt.change(&s)
			if got := th.Judge(s); got != tt.want {
				t.Errorf("%+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPressureConditions(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	ready := corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionTrue}
	first, evs := withPressures([]corev1.NodeCondition{ready}, Pressures{}, t0)
	if len(first) != 4 || first[0] != ready || len(evs) != 3 || evs[0] != "NodeHasSufficientMemory" {
		t.Fatalf("first report: %+v %v", first, evs)
	}
	if c := first[conditionIndex(first, corev1.NodeDiskPressure)]; c.Status != corev1.ConditionFalse || c.Reason != "KubeletHasNoDiskPressure" || c.Message != "kubelet has no disk pressure" {
		t.Fatalf("disk: %+v", c)
	}
	if again, evs := withPressures(first, Pressures{}, t1); again != nil || evs != nil {
		t.Fatalf("unchanged pressures rewrite %+v %v", again, evs)
	}
	mem, evs := withPressures(first, Pressures{Memory: true}, t1)
	c := mem[conditionIndex(mem, corev1.NodeMemoryPressure)]
	if c.Status != corev1.ConditionTrue || c.Reason != "KubeletHasInsufficientMemory" || c.Message != "kubelet has insufficient memory available" || !c.LastTransitionTime.Equal(&t1) {
		t.Fatalf("memory pressure: %+v", c)
	}
	if d := mem[conditionIndex(mem, corev1.NodeDiskPressure)]; !d.LastTransitionTime.Equal(&t0) {
		t.Fatalf("an unchanged condition moved: %+v", d)
	}
	if len(evs) != 1 || evs[0] != "NodeHasInsufficientMemory" {
		t.Fatalf("events %v", evs)
	}
	if first[conditionIndex(first, corev1.NodeMemoryPressure)].Status != corev1.ConditionFalse {
		t.Fatal("withPressures changed its input")
	}
}

// The sampler reads this machine: every measure it reports is plausible.
func TestSamplePressureReadsTheMachine(t *testing.T) {
	s, err := SamplePressure(t.TempDir(), "/nonexistent-imagefs")
	if err != nil {
		t.Fatal(err)
	}
	if s.MemoryAvailable <= 0 || s.NodeFSSize == 0 || s.NodeFSAvailable > s.NodeFSSize || s.NodeFSInodes == 0 ||
		s.ProcessesInUse <= 0 || s.ProcessesMax < s.ProcessesInUse || s.ImageFSSize != 0 {
		t.Fatalf("implausible sample %+v", s)
	}
	if _, err := SamplePressure("/nonexistent-nodefs", ""); err == nil {
		t.Fatal("a missing nodefs is not an error")
	}
}
