package agent

import (
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReadyFromRuntimeHealth(t *testing.T) {
	t0 := metav1.NewTime(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	t1 := metav1.NewTime(t0.Add(time.Minute))
	ready := readyCondition(nil, t0)
	down := readyCondition(errors.New("dial unix /run/containerd/containerd.sock: no such file"), t1)
	if ready.Status != corev1.ConditionTrue || ready.Reason != "KubeletReady" {
		t.Fatalf("healthy: %+v", ready)
	}
	if down.Status != corev1.ConditionFalse || down.Reason != "KubeletNotReady" || down.Message != "container runtime is down" {
		t.Fatalf("down: %+v", down)
	}
	memory := corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse}
	tests := []struct {
		name        string
		conds       []corev1.NodeCondition
		set         corev1.NodeCondition
		wantChanged bool
		wantStatus  corev1.ConditionStatus
		wantSince   metav1.Time
	}{
		{"ready to down moves the transition time", []corev1.NodeCondition{memory, ready}, down, true, corev1.ConditionFalse, t1},
		{"down again changes nothing", []corev1.NodeCondition{down}, readyCondition(errors.New("other cause"), metav1.NewTime(t1.Add(time.Hour))), false, corev1.ConditionFalse, t1},
		{"down to ready", []corev1.NodeCondition{down}, readyCondition(nil, metav1.NewTime(t1.Add(time.Hour))), true, corev1.ConditionTrue, metav1.NewTime(t1.Add(time.Hour))},
		{"no Ready yet", []corev1.NodeCondition{memory}, down, true, corev1.ConditionFalse, t1},
		{"Unknown (lease lapsed) to down", []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, LastTransitionTime: t0}}, down, true, corev1.ConditionFalse, t1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := withReady(tt.conds, tt.set)
			if changed != tt.wantChanged {
				t.Errorf("changed %v, want %v", changed, tt.wantChanged)
			}
			var r *corev1.NodeCondition
			others := 0
			for i := range got {
				if got[i].Type == corev1.NodeReady {
					r = &got[i]
				} else {
					others++
				}
			}
			if r == nil || r.Status != tt.wantStatus || !r.LastTransitionTime.Equal(&tt.wantSince) {
				t.Fatalf("Ready %+v, want %s since %v", r, tt.wantStatus, tt.wantSince)
			}
			if len(got) != others+1 || others != len(tt.conds)-btoi(hasReady(tt.conds)) {
				t.Errorf("conditions %+v: other conditions not kept", got)
			}
		})
	}
}

func hasReady(cs []corev1.NodeCondition) bool {
	for _, c := range cs {
		if c.Type == corev1.NodeReady {
			return true
		}
	}
	return false
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
