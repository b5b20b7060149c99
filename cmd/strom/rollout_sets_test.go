package main

import (
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestRolloutArg(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		kind rolloutKind
		name string
		err  string
	}{
		{arg: "web", kind: rolloutDeployment, name: "web"},
		{arg: "deploy/web", kind: rolloutDeployment, name: "web"},
		{arg: "ds/agent", kind: rolloutDaemonSet, name: "agent"},
		{arg: "daemonsets.apps/agent", kind: rolloutDaemonSet, name: "agent"},
		{arg: "sts/db", kind: rolloutStatefulSet, name: "db"},
		{arg: "StatefulSet/db", kind: rolloutStatefulSet, name: "db"},
		{arg: "rs/web-1", err: `not "rs"`},
		{arg: "ds/", err: "names no object"},
	} {
		k, name, err := rolloutArg(tc.arg)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.arg, err, tc.err)
			}
			continue
		}
		if err != nil || k != tc.kind || name != tc.name {
			t.Errorf("%s: got %v %q %v", tc.arg, k, name, err)
		}
	}
}

func TestDaemonSetRolloutStatus(t *testing.T) {
	ds := func(gen, observed int64, st appsv1.DaemonSetStatus) *appsv1.DaemonSet {
		st.ObservedGeneration = observed
		return &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Generation: gen},
			Spec: appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}}, Status: st}
	}
	for _, tc := range []struct {
		ds   *appsv1.DaemonSet
		msg  string
		done bool
	}{
		{ds(2, 1, appsv1.DaemonSetStatus{}), "Waiting for daemon set spec update to be observed...", false},
		{ds(2, 2, appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, UpdatedNumberScheduled: 1}), `Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...`, false},
		{ds(2, 2, appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 2}), `Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...`, false},
		{ds(2, 2, appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, UpdatedNumberScheduled: 3, NumberAvailable: 3}), `daemon set "agent" successfully rolled out`, true},
	} {
		msg, done, err := podSetStatus(tc.ds)
		if err != nil || msg != tc.msg || done != tc.done {
			t.Errorf("got %q %v %v, want %q %v", msg, done, err, tc.msg, tc.done)
		}
	}
	onDelete := ds(1, 1, appsv1.DaemonSetStatus{})
	onDelete.Spec.UpdateStrategy.Type = appsv1.OnDeleteDaemonSetStrategyType
	if _, _, err := podSetStatus(onDelete); err == nil || !strings.Contains(err.Error(), "only available for RollingUpdate") {
		t.Errorf("OnDelete: %v", err)
	}
}

func TestStatefulSetRolloutStatus(t *testing.T) {
	three, one := int32(3), int32(1)
	ss := func(partition *int32, st appsv1.StatefulSetStatus) *appsv1.StatefulSet {
		if st.ObservedGeneration == 0 {
			st.ObservedGeneration = 1
		}
		s := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "db", Generation: 1},
			Spec: appsv1.StatefulSetSpec{Replicas: &three, UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}}, Status: st}
		if partition != nil {
			s.Spec.UpdateStrategy.RollingUpdate = &appsv1.RollingUpdateStatefulSetStrategy{Partition: partition}
		}
		return s
	}
	for _, tc := range []struct {
		ss   *appsv1.StatefulSet
		msg  string
		done bool
	}{
		{ss(nil, appsv1.StatefulSetStatus{ObservedGeneration: -1}), "Waiting for statefulset spec update to be observed...", false},
		{ss(nil, appsv1.StatefulSetStatus{ReadyReplicas: 1}), "Waiting for 2 pods to be ready...", false},
		{ss(&one, appsv1.StatefulSetStatus{ReadyReplicas: 3, UpdatedReplicas: 1}), "Waiting for partitioned roll out to finish: 1 out of 2 new pods have been updated...", false},
		{ss(&one, appsv1.StatefulSetStatus{ReadyReplicas: 3, UpdatedReplicas: 2}), "partitioned roll out complete: 2 new pods have been updated...", true},
		{ss(nil, appsv1.StatefulSetStatus{ReadyReplicas: 3, UpdatedReplicas: 1, CurrentRevision: "db-a", UpdateRevision: "db-b"}), "waiting for statefulset rolling update to complete 1 pods at revision db-b...", false},
		{ss(nil, appsv1.StatefulSetStatus{ReadyReplicas: 3, CurrentReplicas: 3, CurrentRevision: "db-b", UpdateRevision: "db-b"}), "statefulset rolling update complete 3 pods at revision db-b...", true},
	} {
		msg, done, err := podSetStatus(tc.ss)
		if err != nil || msg != tc.msg || done != tc.done {
			t.Errorf("got %q %v %v, want %q %v", msg, done, err, tc.msg, tc.done)
		}
	}
}
