package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/test/logtest"
)

// A 3-replica StatefulSet on a real node with cluster DNS: its pods come
// up web-0, web-1, web-2, each with its own name as hostname, and resolve
// each other by stable name through the headless Service.
func TestStatefulSetStableDNSOnARealNode(t *testing.T) {
	n := startServiceNode(t, "iptables")
	n.apply(t, `apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{name: web, port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  serviceName: web
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: strom.test/busybox:1, command: [sleep, "3600"]}
`)
	ips := map[string]string{}
	logtest.Eventually(t, 90*time.Second, func() error {
		for _, name := range []string{"web-0", "web-1", "web-2"} {
			p, err := n.pod(t, name)
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
				return fmt.Errorf("%s: phase %q, IP %q", name, p.Status.Phase, p.Status.PodIP)
			}
			ips[name] = p.Status.PodIP
		}
		return nil
	})
	if out, err := n.strom(t, "exec", "web-1", "--", "hostname"); err != nil || strings.TrimSpace(out) != "web-1" {
		t.Fatalf("hostname in web-1: %v %q", err, out)
	}
	for from, to := range map[string]string{"web-0": "web-1", "web-1": "web-2", "web-2": "web-0"} {
		name := to + ".web.default.svc.cluster.local"
		logtest.Eventually(t, 20*time.Second, func() error {
			out, err := n.strom(t, "exec", from, "--", "nslookup", name)
			if err != nil || !strings.Contains(out, ips[to]) {
				return fmt.Errorf("nslookup %s in %s: %v\n%s (want %s)", name, from, err, out, ips[to])
			}
			return nil
		})
	}
}
