package events

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events/objects"
)

// Which rule Delete takes for each kind and option.
func TestChooseDelete(t *testing.T) {
	bound := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{NodeName: "n1"}}
	unbound := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team"}}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs"}}
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm"}}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web"}}
	grace := int64(3)
	for _, tc := range []struct {
		name string
		obj  objects.Object
		d    DeleteOptions
		want deleteRule
	}{
		{"configmap", cm, DeleteOptions{}, ruleRemove},
		{"configmap background", cm, DeleteOptions{Propagation: PropagationBackground}, ruleRemove},
		{"service", svc, DeleteOptions{}, ruleRemove},
		{"replicaset background", rs, DeleteOptions{}, ruleRemove},
		{"replicaset foreground", rs, DeleteOptions{Propagation: PropagationForeground}, ruleFinalize},
		{"replicaset orphan", rs, DeleteOptions{Propagation: PropagationOrphan}, ruleFinalize},
		{"replicaset foreground now (gc finishing)", rs, DeleteOptions{Propagation: PropagationForeground, Now: true}, ruleRemove},
		{"namespace", ns, DeleteOptions{}, ruleTerminate},
		{"namespace foreground", ns, DeleteOptions{Propagation: PropagationForeground}, ruleTerminate},
		{"namespace now (namespace controller finishing)", ns, DeleteOptions{Now: true}, ruleRemove},
		{"bound pod", bound, DeleteOptions{}, ruleGraceful},
		{"bound pod with grace", bound, DeleteOptions{GracePeriod: &grace}, ruleGraceful},
		{"bound pod foreground (pods ignore propagation)", bound, DeleteOptions{Propagation: PropagationForeground}, ruleGraceful},
		{"bound pod now (node finishing, force)", bound, DeleteOptions{Now: true}, ruleRemove},
		{"unbound pod", unbound, DeleteOptions{}, ruleRemove},
		{"unbound pod orphan", unbound, DeleteOptions{Propagation: PropagationOrphan}, ruleRemove},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := objects.KindOf(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			if got := chooseDelete(k, tc.obj, tc.d); got != tc.want {
				t.Fatalf("rule %s, want %s", got, tc.want)
			}
		})
	}
}
