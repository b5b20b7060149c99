package ctrtest

import (
	"os"
	"testing"

	"github.com/containerd/containerd/pkg/netns"
	cnins "github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// NewNetNS pins a new network namespace with lo up, removed when the test
// ends. Use it as the "node" of network tests: run CNI inside it so bridges
// and iptables rules never touch the host.
func NewNetNS(t testing.TB) *netns.NetNS {
	t.Helper()
	RequireRoot(t)
	dir, err := os.MkdirTemp("", "ctrtest-netns-")
	if err != nil {
		t.Fatalf("creating netns dir: %v", err)
	}
	ns, err := netns.NewNetNS(dir)
	if err != nil {
		os.RemoveAll(dir)
		t.Fatalf("creating network namespace: %v", err)
	}
	t.Cleanup(func() {
		if err := ns.Remove(); err != nil {
			t.Errorf("ctrtest: removing netns %s: %v", ns.GetPath(), err)
		}
		if err := UnmountUnder(dir); err != nil {
			t.Errorf("ctrtest: %v", err)
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("ctrtest: removing %s: %v", dir, err)
		}
	})
	err = ns.Do(func(cnins.NetNS) error {
		lo, err := netlink.LinkByName("lo")
		if err != nil {
			return err
		}
		return netlink.LinkSetUp(lo)
	})
	if err != nil {
		t.Fatalf("bringing lo up in %s: %v", ns.GetPath(), err)
	}
	return ns
}
