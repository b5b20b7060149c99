package network

import (
	"encoding/json"
	"net"
	"testing"

	"github.com/containernetworking/cni/libcni"
	types100 "github.com/containernetworking/cni/pkg/types/100"
)

func TestBridgeConfList(t *testing.T) {
	raw, err := BridgeConfList(Config{PodCIDR: "10.244.3.0/24", CacheDir: "/var/lib/x", MTU: 1400})
	if err != nil {
		t.Fatalf("BridgeConfList: %v", err)
	}
	list, err := libcni.ConfListFromBytes(raw)
	if err != nil {
		t.Fatalf("libcni rejects the conflist: %v\n%s", err, raw)
	}
	if list.CNIVersion != "1.0.0" || list.Name != "strom" || len(list.Plugins) != 2 {
		t.Fatalf("list = %s %s %d plugins", list.CNIVersion, list.Name, len(list.Plugins))
	}
	var br struct {
		Type        string `json:"type"`
		Bridge      string `json:"bridge"`
		IsGateway   bool   `json:"isGateway"`
		IPMasq      bool   `json:"ipMasq"`
		HairpinMode bool   `json:"hairpinMode"`
		MTU         int    `json:"mtu"`
		IPAM        struct {
			Type    string                `json:"type"`
			Ranges  [][]map[string]string `json:"ranges"`
			DataDir string                `json:"dataDir"`
		} `json:"ipam"`
	}
	if err := json.Unmarshal(list.Plugins[0].Bytes, &br); err != nil {
		t.Fatalf("bridge conf: %v", err)
	}
	if br.Type != "bridge" || br.Bridge != "strom0" || !br.IsGateway || !br.IPMasq || !br.HairpinMode || br.MTU != 1400 {
		t.Errorf("bridge conf = %+v", br)
	}
	if br.IPAM.Type != "host-local" || br.IPAM.Ranges[0][0]["subnet"] != "10.244.3.0/24" || br.IPAM.DataDir != "/var/lib/x/ipam" {
		t.Errorf("ipam = %+v", br.IPAM)
	}
	if list.Plugins[1].Network.Type != "portmap" || !list.Plugins[1].Network.Capabilities["portMappings"] {
		t.Errorf("second plugin = %+v", list.Plugins[1].Network)
	}
}

func TestConfigRejectsBadInput(t *testing.T) {
	if _, err := BridgeConfList(Config{PodCIDR: "not-a-cidr"}); err == nil {
		t.Errorf("bad CIDR accepted")
	}
	if _, err := BridgeConfList(Config{PodCIDR: "10.0.0.0/24", BridgeName: "a-very-long-bridge-name"}); err == nil {
		t.Errorf("16+ character bridge name accepted")
	}
}

func TestGateway(t *testing.T) {
	gw, err := Gateway("10.244.3.0/24")
	if err != nil || gw.String() != "10.244.3.1" {
		t.Fatalf("Gateway = %v %v", gw, err)
	}
}

func TestPodIPSkipsHostInterfaces(t *testing.T) {
	zero, one := 0, 1
	res := &types100.Result{
		CNIVersion: "1.0.0",
		Interfaces: []*types100.Interface{{Name: "strom0"}, {Name: "eth0", Sandbox: "/run/netns/x"}},
		IPs: []*types100.IPConfig{
			{Interface: &zero, Address: net.IPNet{IP: net.ParseIP("10.0.0.1"), Mask: net.CIDRMask(24, 32)}},
			{Interface: &one, Address: net.IPNet{IP: net.ParseIP("10.0.0.7"), Mask: net.CIDRMask(24, 32)}},
		},
	}
	ip, err := podIP(res)
	if err != nil || ip.String() != "10.0.0.7" {
		t.Fatalf("podIP = %v %v", ip, err)
	}
	if _, err := podIP(&types100.Result{CNIVersion: "1.0.0"}); err == nil {
		t.Errorf("empty result gave an IP")
	}
}
