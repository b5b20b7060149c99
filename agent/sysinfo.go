package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	goruntime "runtime"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/api"
)

// HostSystemInfo reads the machine's identity for the Node's
// status.nodeInfo as kubelet reports it: machineID (/etc/machine-id),
// systemUUID (DMI product_uuid, readable by root), bootID, kernelVersion
// and osImage (os-release's PRETTY_NAME). root prefixes every path ("/"
// for the machine; tests give a directory). A file that is missing or
// unreadable leaves its field empty, as on machines without DMI.
func HostSystemInfo(root string) corev1.NodeSystemInfo {
	read := func(p string) string {
		data, err := os.ReadFile(filepath.Join(root, p))
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(data))
	}
	uuid := read("sys/class/dmi/id/product_uuid")
	return corev1.NodeSystemInfo{
		MachineID:     read("etc/machine-id"),
		SystemUUID:    strings.ToUpper(uuid),
		BootID:        read("proc/sys/kernel/random/boot_id"),
		KernelVersion: read("proc/sys/kernel/osrelease"),
		OSImage:       osImage(filepath.Join(root, "etc/os-release"), filepath.Join(root, "usr/lib/os-release")),
	}
}

// osImage is os-release's PRETTY_NAME (the first file that exists).
func osImage(paths ...string) string {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
			if ok && k == "PRETTY_NAME" {
				return strings.Trim(v, `"'`)
			}
		}
		return "Linux"
	}
	return ""
}

// withSystemInfo is the node info the agent reports: what it knows of
// itself, the machine's identity (cfg.SystemInfo) and the runtime's
// version once learned.
func (a *Agent) withSystemInfo(runtime string) corev1.NodeSystemInfo {
	info := corev1.NodeSystemInfo{}
	if a.cfg.SystemInfo != nil {
		info = *a.cfg.SystemInfo
	}
	info.KubeletVersion, info.KubeProxyVersion = a.cfg.Version, ""
	info.OperatingSystem, info.Architecture = goruntime.GOOS, goruntime.GOARCH
	info.ContainerRuntimeVersion = runtime
	if info.ContainerRuntimeVersion == "" {
		info.ContainerRuntimeVersion = "containerd"
	}
	return info
}

// RuntimeVersioner is implemented by pod managers whose runtime has a
// version to report (status.nodeInfo.containerRuntimeVersion, as
// "containerd://1.7.24").
type RuntimeVersioner interface {
	RuntimeVersion(ctx context.Context) (string, error)
}

// reportRuntimeVersion writes the runtime's version into the node's
// status once it answers, asking again with back-off while it does not
// (the runtime may be down at start).
func (a *Agent) reportRuntimeVersion(ctx context.Context, v RuntimeVersioner) {
	wait := time.Second
	for {
		version, err := v.RuntimeVersion(ctx)
		if err == nil {
			err = a.writeNodeInfo(ctx, a.withSystemInfo(version))
		}
		if err == nil {
			return
		}
		a.log.Debug("runtime version not reported yet", zap.Error(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// writeNodeInfo sets the node's status.nodeInfo, retrying a lost
// compare-and-swap.
func (a *Agent) writeNodeInfo(ctx context.Context, info corev1.NodeSystemInfo) error {
	for attempt := 0; ; attempt++ {
		node, err := getNode(ctx, a.cfg.Client, a.cfg.NodeName)
		if err != nil {
			return fmt.Errorf("reading node %s: %w", a.cfg.NodeName, err)
		}
		if node.Status.NodeInfo == info {
			return nil
		}
		node.Status.NodeInfo = info
		node.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Node"}
		data, err := json.Marshal(node)
		if err != nil {
			return err
		}
		_, err = a.cfg.Client.Do(ctx, api.VerbStatus, &api.Request{Object: data})
		if events.IsConflict(err) && attempt < 5 {
			continue
		}
		if err != nil {
			return fmt.Errorf("writing the node info of %s: %w", a.cfg.NodeName, err)
		}
		return nil
	}
}

// DefaultNodeIP is the node's InternalIP when none is configured, as
// kubelet picks it: the first IPv4 address of the interface the default
// route goes through, else of any interface that is up and not loopback;
// "" when there is none. Nothing is sent.
func DefaultNodeIP() string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return ""
	}
	first := func(ifc net.Interface) string {
		addrs, err := ifc.Addrs()
		if err != nil {
			return ""
		}
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() {
				return ipn.IP.String()
			}
		}
		return ""
	}
	if route, err := os.ReadFile("/proc/net/route"); err == nil {
		if name := defaultRouteInterface(route); name != "" {
			if ifc, err := net.InterfaceByName(name); err == nil {
				if ip := first(*ifc); ip != "" {
					return ip
				}
			}
		}
	}
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp != 0 && ifc.Flags&net.FlagLoopback == 0 {
			if ip := first(ifc); ip != "" {
				return ip
			}
		}
	}
	return ""
}

// defaultRouteInterface reads /proc/net/route's table: the interface of
// the default route (destination and mask 0) with the lowest metric.
func defaultRouteInterface(table []byte) string {
	best, bestMetric := "", -1
	sc := bufio.NewScanner(bytes.NewReader(table))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] == "Iface" || f[1] != "00000000" || f[7] != "00000000" {
			continue
		}
		var metric int
		if _, err := fmt.Sscanf(f[6], "%d", &metric); err != nil {
			continue
		}
		if bestMetric < 0 || metric < bestMetric {
			best, bestMetric = f[0], metric
		}
	}
	return best
}
