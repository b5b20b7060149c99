package apiserver_test

// Service allocation through the API: ClusterIPs and NodePorts are
// allocated by an admission of the write path (events/alloc); these drive
// a whole stromd through the client.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/alloc"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

func svcJSON(name, typ, clusterIP string, nodePort int32) []byte {
	s := map[string]any{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": name, "namespace": "default"},
		"spec": map[string]any{
			"type": typ, "selector": map[string]string{"app": name},
			"ports": []map[string]any{{"port": 80, "targetPort": 8080, "nodePort": nodePort}},
		},
	}
	if clusterIP != "" {
		s["spec"].(map[string]any)["clusterIP"] = clusterIP
	}
	data, _ := json.Marshal(s)
	return data
}

func applySvc(c *api.Client, verb string, data []byte) (*corev1.Service, error) {
	resp, err := c.Do(context.Background(), verb, &api.Request{Object: data})
	if err != nil {
		return nil, err
	}
	var s corev1.Service
	return &s, json.Unmarshal(resp.Object, &s)
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	if !events.IsInvalid(err) || !strings.Contains(err.Error(), field) {
		t.Fatalf("want an Invalid error naming %s, got %v", field, err)
	}
}

func TestServiceAllocation(t *testing.T) {
	d := clustertest.StartStromd(t)
	c := clustertest.AdminClient(t, d)
	cidr := netip.MustParsePrefix("10.43.0.0/16")

	np, err := applySvc(c, api.VerbApply, svcJSON("np", "NodePort", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(np.Spec.ClusterIP)
	if err != nil || !cidr.Contains(ip) || len(np.Spec.ClusterIPs) != 1 || np.Spec.ClusterIPs[0] != np.Spec.ClusterIP {
		t.Fatalf("clusterIP %q clusterIPs %v, want one address in %s", np.Spec.ClusterIP, np.Spec.ClusterIPs, cidr)
	}
	port := np.Spec.Ports[0].NodePort
	if port < alloc.MinNodePort || port > alloc.MaxNodePort {
		t.Fatalf("nodePort %d out of range", port)
	}

	// Re-applying the manifest (no clusterIP, no nodePort) keeps both.
	again, err := applySvc(c, api.VerbApply, svcJSON("np", "NodePort", "", 0))
	if err != nil {
		t.Fatal(err)
	}
	if again.Spec.ClusterIP != np.Spec.ClusterIP || again.Spec.Ports[0].NodePort != port {
		t.Fatalf("re-apply changed allocation: %s/%d -> %s/%d", np.Spec.ClusterIP, port, again.Spec.ClusterIP, again.Spec.Ports[0].NodePort)
	}
	// A different clusterIP on update is refused.
	_, err = applySvc(c, api.VerbApply, svcJSON("np", "NodePort", "10.43.99.99", 0))
	wantInvalid(t, err, "spec.clusterIP")

	// Explicit clusterIP: taken, out of range, malformed.
	_, err = applySvc(c, api.VerbApply, svcJSON("dup", "ClusterIP", np.Spec.ClusterIP, 0))
	wantInvalid(t, err, "spec.clusterIP")
	_, err = applySvc(c, api.VerbApply, svcJSON("out", "ClusterIP", "10.44.0.5", 0))
	wantInvalid(t, err, "spec.clusterIP")
	_, err = applySvc(c, api.VerbApply, svcJSON("bad", "ClusterIP", "not-an-ip", 0))
	wantInvalid(t, err, "spec.clusterIP")
	// Explicit nodePort: taken, out of range; nodePort on a ClusterIP service.
	_, err = applySvc(c, api.VerbApply, svcJSON("dupport", "NodePort", "", port))
	wantInvalid(t, err, "spec.ports[0].nodePort")
	_, err = applySvc(c, api.VerbApply, svcJSON("lowport", "NodePort", "", 8080))
	wantInvalid(t, err, "spec.ports[0].nodePort")
	_, err = applySvc(c, api.VerbApply, svcJSON("cip", "ClusterIP", "", 30500))
	wantInvalid(t, err, "spec.ports[0].nodePort")
	// A refused write leaves no claim behind: the IP it named is free.
	fixed, err := applySvc(c, api.VerbApply, svcJSON("fixed", "NodePort", "10.43.0.10", 30010))
	if err != nil {
		t.Fatal(err)
	}
	if fixed.Spec.ClusterIP != "10.43.0.10" || fixed.Spec.Ports[0].NodePort != 30010 {
		t.Fatalf("explicit allocation not honoured: %s/%d", fixed.Spec.ClusterIP, fixed.Spec.Ports[0].NodePort)
	}
	_, err = applySvc(c, api.VerbApply, svcJSON("fixed2", "NodePort", "10.43.0.11", 30010))
	wantInvalid(t, err, "nodePort")
	if _, err := applySvc(c, api.VerbApply, svcJSON("fixed3", "ClusterIP", "10.43.0.11", 0)); err != nil {
		t.Fatalf("the IP of a refused write must stay free: %v", err)
	}

	// Turning NodePort into ClusterIP releases the port.
	if _, err := c.Do(context.Background(), api.VerbApply, &api.Request{Object: svcJSON("fixed", "ClusterIP", "", 0)}); err != nil {
		t.Fatal(err)
	}
	if _, err := applySvc(c, api.VerbApply, svcJSON("takeport", "NodePort", "", 30010)); err != nil {
		t.Fatalf("port of a service turned ClusterIP not released: %v", err)
	}

	// Delete releases.
	if _, err := c.Do(context.Background(), api.VerbDelete, &api.Request{Resource: "services", Namespace: "default", Name: "np"}); err != nil {
		t.Fatal(err)
	}
	re, err := applySvc(c, api.VerbApply, svcJSON("np2", "NodePort", np.Spec.ClusterIP, port))
	if err != nil {
		t.Fatalf("allocation of a deleted service not released: %v", err)
	}
	if re.Spec.ClusterIP != np.Spec.ClusterIP {
		t.Fatalf("got %s", re.Spec.ClusterIP)
	}
}

// Concurrent creates never share an address; racing for one explicit
// address, exactly one wins.
func TestServiceAllocationConcurrent(t *testing.T) {
	d := clustertest.StartStromd(t, func(c *app.Config) { c.ServiceCIDR = "10.43.0.0/27" }) // 15 dynamic addresses
	c := clustertest.AdminClient(t, d)
	const n = 15
	var wg sync.WaitGroup
	ips := make([]string, n)
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := applySvc(c, api.VerbCreate, svcJSON(fmt.Sprintf("s%d", i), "ClusterIP", "", 0))
			errs[i] = err
			if err == nil {
				ips[i] = s.Spec.ClusterIP
			}
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range ips {
		if errs[i] != nil {
			t.Fatalf("create s%d: %v", i, errs[i])
		}
		if seen[ips[i]] {
			t.Fatalf("address %s handed out twice: %v", ips[i], ips)
		}
		seen[ips[i]] = true
	}
	// The range is now full: the next create fails cleanly.
	if _, err := applySvc(c, api.VerbCreate, svcJSON("full", "ClusterIP", "", 0)); err == nil || !strings.Contains(err.Error(), "no free ClusterIP") {
		t.Fatalf("full range: %v", err)
	}
	wins := make(chan error, 8)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := applySvc(c, api.VerbCreate, svcJSON(fmt.Sprintf("race%d", i), "ClusterIP", "10.43.0.5", 0))
			wins <- err
		}()
	}
	ok := 0
	for i := 0; i < 8; i++ {
		if err := <-wins; err == nil {
			ok++
		} else {
			wantInvalid(t, err, "spec.clusterIP")
		}
	}
	if ok != 1 {
		t.Fatalf("%d creates got 10.43.0.5, want exactly 1", ok)
	}
}

// Claims survive a restart.
func TestServiceAllocationRestart(t *testing.T) {
	dir := t.TempDir()
	first, err := app.Start(context.Background(), app.Config{DataDir: dir, Listen: "127.0.0.1:0", NoAgent: true, NodeName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := api.LoadConfig(first.AdminConfig)
	if err != nil {
		first.Stop()
		t.Fatal(err)
	}
	c, err := api.Dial(cfg)
	if err != nil {
		first.Stop()
		t.Fatal(err)
	}
	_, err = applySvc(c, api.VerbApply, svcJSON("a", "NodePort", "10.43.1.1", 31000))
	c.Close()
	first.Stop()
	if err != nil {
		t.Fatal(err)
	}
	d := clustertest.StartStromd(t, func(c *app.Config) { c.DataDir = dir })
	c = clustertest.AdminClient(t, d)
	_, err = applySvc(c, api.VerbApply, svcJSON("b", "ClusterIP", "10.43.1.1", 0))
	wantInvalid(t, err, "spec.clusterIP")
	_, err = applySvc(c, api.VerbApply, svcJSON("c", "NodePort", "", 31000))
	wantInvalid(t, err, "nodePort")
}

// A Service written by a controller straight through the Writer (no API,
// no svcalloc running) is allocated, a changed type releases what it no
// longer holds, and its claims go with its Deleted event.
