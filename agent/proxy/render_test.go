package proxy

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from current output")

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func eps(port int32, ready bool, ips ...string) []Endpoint {
	var out []Endpoint
	for _, ip := range ips {
		out = append(out, Endpoint{IP: addr(ip), Port: port, Ready: ready})
	}
	return out
}

// goldenCases cover every rule shape Render produces.
var goldenCases = []struct {
	name  string
	cfg   Config
	state []ServicePort
}{
	{name: "empty", cfg: Config{}},
	{
		name: "clusterip",
		cfg:  Config{PodCIDR: netip.MustParsePrefix("10.244.0.0/16")},
		state: []ServicePort{{
			Namespace: "default", Name: "web", PortName: "http", Protocol: "TCP",
			ClusterIP: addr("10.96.0.10"), Port: 80,
			// Out of order and with a not-ready one: output is sorted, ready only.
			Endpoints: append(eps(8080, true, "10.244.1.7", "10.244.1.5", "10.244.2.9"), eps(8080, false, "10.244.3.1")...),
		}},
	},
	{
		name: "nodeport-external-affinity",
		cfg:  Config{PodCIDR: netip.MustParsePrefix("10.244.0.0/16"), LocalhostNodePorts: true},
		state: []ServicePort{
			{
				Namespace: "shop", Name: "cart", Protocol: "TCP", ClusterIP: addr("10.96.1.1"), Port: 443,
				NodePort: 30443, ExternalIPs: []netip.Addr{addr("192.0.2.10")}, LoadBalancerIPs: []netip.Addr{addr("198.51.100.7")},
				SessionAffinityClientIP: true, AffinityTimeoutSeconds: 600,
				Endpoints: eps(8443, true, "10.244.1.10", "10.244.1.11"),
			},
			{
				Namespace: "kube-system", Name: "dns", PortName: "dns", Protocol: "UDP", ClusterIP: addr("10.96.0.53"), Port: 53,
				Endpoints: eps(5353, true, "10.244.0.2"),
			},
		},
	},
	{
		name: "no-endpoints-and-headless",
		cfg:  Config{},
		state: []ServicePort{
			{Namespace: "a", Name: "down", Protocol: "TCP", ClusterIP: addr("10.96.5.5"), Port: 80, NodePort: 30080,
				ExternalIPs: []netip.Addr{addr("192.0.2.20")}, Endpoints: eps(80, false, "10.244.1.1")},
			{Namespace: "a", Name: "headless", Protocol: "TCP", Port: 80, Endpoints: eps(80, true, "10.244.1.2")},
		},
	},
}

func TestRenderGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			nat, filter := Render(tc.state, tc.cfg)
			got := append(append([]byte("# nat\n"), nat...), append([]byte("# filter\n"), filter...)...)
			checkGolden(t, filepath.Join("testdata", tc.name+".golden"), got)
		})
	}
}

// checkGolden compares got with the file at path (rewriting it first
// with -update).
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("writing golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden; got:\n%s", path, got)
	}
}

func TestRenderDeterministic(t *testing.T) {
	tc := goldenCases[2]
	a1, b1 := Render(tc.state, tc.cfg)
	rev := []ServicePort{tc.state[1], tc.state[0]}
	rev[0].Endpoints = []Endpoint{rev[0].Endpoints[0]}
	rev[1].Endpoints = []Endpoint{tc.state[0].Endpoints[1], tc.state[0].Endpoints[0]}
	a2, b2 := Render(rev, tc.cfg)
	if !bytes.Equal(a1, a2) || !bytes.Equal(b1, b2) {
		t.Fatalf("output depends on input order:\n%s\nvs\n%s", a1, a2)
	}
}

func TestProbabilities(t *testing.T) {
	sp := ServicePort{Namespace: "n", Name: "s", ClusterIP: addr("10.96.0.1"), Port: 80,
		Endpoints: eps(80, true, "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4")}
	nat, _ := Render([]ServicePort{sp}, Config{})
	var probs []string
	uncond := 0
	svc := serviceChain(sp.Key())
	for _, l := range strings.Split(string(nat), "\n") {
		if !strings.HasPrefix(l, "-A "+svc+" ") {
			continue
		}
		if _, p, ok := strings.Cut(l, "--probability "); ok {
			probs = append(probs, strings.Fields(p)[0])
		} else {
			uncond++
		}
	}
	want := []string{"0.2500000000", "0.3333333333", "0.5000000000"}
	if strings.Join(probs, ",") != strings.Join(want, ",") || uncond != 1 {
		t.Fatalf("probabilities %v + %d unconditional, want %v + 1", probs, uncond, want)
	}
}

func TestChainNamesFit(t *testing.T) {
	long := strings.Repeat("x", 253)
	sp := ServicePort{Namespace: long, Name: long, PortName: long}
	for _, c := range []string{serviceChain(sp.Key()), endpointChain(sp.Key(), addr("10.0.0.1"), 65535)} {
		if len(c) > maxChainName {
			t.Errorf("chain %q is %d characters, limit %d", c, len(c), maxChainName)
		}
	}
	if serviceChain("a/b:c/tcp") == serviceChain("a/b:c/udp") {
		t.Error("TCP and UDP ports of one service share a chain name")
	}
}

func bytesContains(b []byte, s string) bool { return bytes.Contains(b, []byte(s)) }
