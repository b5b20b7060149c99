package main

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestLogsPodPreference(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	mk := func(name, node string, phase corev1.PodPhase, ready bool, age time.Duration) corev1.Pod {
		p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0.Add(-age))},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Phase: phase}}
		if ready {
			p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
		}
		return p
	}
	pods := []corev1.Pod{
		mk("pending", "", corev1.PodPending, false, time.Minute),
		mk("done-old", "n1", corev1.PodSucceeded, false, time.Hour),
		mk("running-unready", "n1", corev1.PodRunning, false, time.Second),
		mk("done-new", "n1", corev1.PodSucceeded, false, time.Minute),
		mk("running-ready-old", "n1", corev1.PodRunning, true, time.Hour),
		mk("running-ready-new", "n1", corev1.PodRunning, true, time.Minute),
	}
	sort.SliceStable(pods, func(i, j int) bool { return morePreferred(&pods[i], &pods[j]) })
	var got []string
	for _, p := range pods {
		got = append(got, p.Name)
	}
	want := "running-ready-new running-ready-old running-unready done-new done-old pending"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestSelectorOf(t *testing.T) {
	for _, tc := range []struct {
		kind, raw, want, err string
	}{
		{"Deployment", `{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["fe"]}]}`, "app=web,tier in (fe)", ""},
		{"ReplicationController", `{"app":"web"}`, "app=web", ""},
		{"CronJob", ``, "", "without a selector"},
	} {
		sel, err := selectorOf(tc.kind, json.RawMessage(tc.raw))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: want an error with %q, got %v", tc.kind, tc.err, err)
			}
			continue
		}
		if err != nil || sel.String() != tc.want {
			t.Errorf("%s: %v, %v; want %s", tc.kind, sel, err, tc.want)
		}
	}
}
