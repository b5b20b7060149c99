package scheduler

import "testing"

func TestFitErrorMessage(t *testing.T) {
	tests := []struct {
		e    FitError
		want string
	}{
		{FitError{NumAllNodes: 3, Reasons: map[string]int{"Insufficient cpu": 2, "node(s) had untolerated taint {key: value}": 1}},
			"0/3 nodes are available: 1 node(s) had untolerated taint {key: value}, 2 Insufficient cpu."},
		// Sorted as strings, like kube-scheduler: "12 ..." sorts before "3 ...".
		{FitError{NumAllNodes: 15, Reasons: map[string]int{"Insufficient memory": 3, "Too many pods": 12}},
			"0/15 nodes are available: 12 Too many pods, 3 Insufficient memory."},
		{FitError{NumAllNodes: 2, PreFilterMsg: "invalid affinity"}, "0/2 nodes are available: invalid affinity."},
		{FitError{}, "0/0 nodes are available: no nodes available to schedule pods."},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
