package agent

import (
	"os"
	"path/filepath"
	"testing"
)

func TestHostSystemInfo(t *testing.T) {
	root := t.TempDir()
	write := func(p, content string) {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", "NAME=\"Debian GNU/Linux\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n")
	write("etc/machine-id", "0a1b2c3d4e5f60718293a4b5c6d7e8f9\n")
	write("sys/class/dmi/id/product_uuid", "ec2a1b2c-0000-4d4e-9f00-123456789abc\n")
	write("proc/sys/kernel/random/boot_id", "5f0d8c0e-1111-4222-8333-944455566677\n")
	write("proc/sys/kernel/osrelease", "6.1.0-28-amd64\n")
	got := HostSystemInfo(root)
	for field, pair := range map[string][2]string{
		"osImage":       {got.OSImage, "Debian GNU/Linux 12 (bookworm)"},
		"machineID":     {got.MachineID, "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
		"systemUUID":    {got.SystemUUID, "EC2A1B2C-0000-4D4E-9F00-123456789ABC"},
		"bootID":        {got.BootID, "5f0d8c0e-1111-4222-8333-944455566677"},
		"kernelVersion": {got.KernelVersion, "6.1.0-28-amd64"},
	} {
		if pair[0] != pair[1] {
			t.Errorf("%s = %q, want %q", field, pair[0], pair[1])
		}
	}
	// Nothing readable: empty fields, no error.
	if empty := HostSystemInfo(t.TempDir()); empty.OSImage != "" || empty.MachineID != "" || empty.KernelVersion != "" {
		t.Errorf("from an empty root: %+v", empty)
	}
	// This machine has a kernel and an os-release.
	if here := HostSystemInfo("/"); here.KernelVersion == "" || here.OSImage == "" || here.BootID == "" {
		t.Errorf("this machine's info is incomplete: %+v", here)
	}
}

func TestDefaultRouteInterface(t *testing.T) {
	table := "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
		"eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n" +
		"eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
		"eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	if got := defaultRouteInterface([]byte(table)); got != "eth0" {
		t.Errorf("default route interface = %q, want eth0 (the lower metric)", got)
	}
	if got := defaultRouteInterface([]byte("Iface\tDestination\n")); got != "" {
		t.Errorf("without a default route: %q", got)
	}
}
