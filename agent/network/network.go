package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	cnins "github.com/containernetworking/plugins/pkg/ns"
	"go.uber.org/zap"
)

// PortMapping is a pod's hostPort.
type PortMapping struct {
	HostPort      int32
	ContainerPort int32
	Protocol      string // "tcp" (default), "udp" or "sctp"
	HostIP        string // optional
}

// Manager sets pods up on the node's pod network.
type Manager struct {
	cfg  Config
	cni  *libcni.CNIConfig
	list *libcni.NetworkConfigList
	lo   *libcni.NetworkConfigList
	log  *zap.Logger
}

// podIfName is the pod side of the veth.
const podIfName = "eth0"

// New checks the configuration and the plugins and returns a Manager.
func New(cfg Config, log *zap.Logger) (*Manager, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = zap.NewNop()
	}
	if err := checkPlugins(cfg.PluginDirs); err != nil {
		return nil, err
	}
	for _, d := range []string{cfg.ipamDir(), cfg.libcniCacheDir()} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("creating %s: %w", d, err)
		}
	}
	raw, err := BridgeConfList(cfg)
	if err != nil {
		return nil, err
	}
	list, err := libcni.ConfListFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("parsing pod network conflist: %w", err)
	}
	rawLo, err := LoopbackConfList(cfg)
	if err != nil {
		return nil, err
	}
	lo, err := libcni.ConfListFromBytes(rawLo)
	if err != nil {
		return nil, fmt.Errorf("parsing loopback conflist: %w", err)
	}
	return &Manager{
		cfg:  cfg,
		cni:  libcni.NewCNIConfigWithCacheDir(cfg.PluginDirs, cfg.libcniCacheDir(), nil),
		list: list,
		lo:   lo,
		log:  log,
	}, nil
}

// ErrPluginNotFound: a CNI plugin the pod network needs is missing;
// installing it mends it.
var ErrPluginNotFound = errors.New("CNI plugin not found")

// plugins are the CNI plugins the pod network uses.
var plugins = []string{"bridge", "host-local", "portmap", "loopback"}

func checkPlugins(dirs []string) error {
	for _, p := range plugins {
		if _, err := findPlugin(dirs, p); err != nil {
			return err
		}
	}
	return nil
}

// CheckPlugins says whether every CNI plugin the pod network needs is
// still installed (an error wrapping ErrPluginNotFound if not).
func (m *Manager) CheckPlugins() error { return checkPlugins(m.cfg.PluginDirs) }

func findPlugin(dirs []string, name string) (string, error) {
	for _, d := range dirs {
		p := d + "/" + name
		if st, err := os.Stat(p); err == nil && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %s in %v (apt-get install -y containernetworking-plugins)", ErrPluginNotFound, name, dirs)
}

// Config returns the manager's configuration with defaults filled in.
func (m *Manager) Config() Config { return m.cfg }

// inHost runs f in the node's network namespace.
func (m *Manager) inHost(f func() error) error {
	if m.cfg.HostNetNS == "" {
		return f()
	}
	return cnins.WithNetNSPath(m.cfg.HostNetNS, func(cnins.NetNS) error { return f() })
}

func (m *Manager) runtimeConf(podID, netnsPath, ifName string, ports []PortMapping) *libcni.RuntimeConf {
	rt := &libcni.RuntimeConf{ContainerID: podID, NetNS: netnsPath, IfName: ifName}
	if len(ports) > 0 {
		var pm []map[string]any
		for _, p := range ports {
			proto := strings.ToLower(p.Protocol)
			if proto == "" {
				proto = "tcp"
			}
			e := map[string]any{"hostPort": p.HostPort, "containerPort": p.ContainerPort, "protocol": proto}
			if p.HostIP != "" {
				e["hostIP"] = p.HostIP
			}
			pm = append(pm, e)
		}
		rt.CapabilityArgs = map[string]any{"portMappings": pm}
	}
	return rt
}

// Setup attaches the pod's network namespace to the pod network and returns
// the pod IP. Calling it again for the same pod and namespace returns the
// same IP without touching the network; for a new namespace (the sandbox was
// recreated) the old attachment is torn down first.
func (m *Manager) Setup(ctx context.Context, podID, netnsPath string, ports []PortMapping) (net.IP, error) {
	if podID == "" || netnsPath == "" {
		return nil, fmt.Errorf("setting up pod network: empty pod ID or netns path")
	}
	rt := m.runtimeConf(podID, netnsPath, podIfName, ports)
	if _, cached, err := m.cni.GetNetworkListCachedConfig(m.list, rt); err == nil && cached != nil {
		if cached.NetNS == netnsPath {
			if res, err := m.cni.GetNetworkListCachedResult(m.list, rt); err == nil && res != nil {
				if ip, err := podIP(res); err == nil {
					return ip, nil
				}
			}
		} else {
			m.log.Info("pod network namespace changed; tearing down the old attachment",
				zap.String("pod", podID), zap.String("old", cached.NetNS), zap.String("new", netnsPath))
			if err := m.Teardown(ctx, podID, cached.NetNS); err != nil {
				return nil, err
			}
		}
	}
	var ip net.IP
	err := m.inHost(func() error {
		loRT := &libcni.RuntimeConf{ContainerID: podID, NetNS: netnsPath, IfName: "lo"}
		if _, err := m.cni.AddNetworkList(ctx, m.lo, loRT); err != nil {
			return fmt.Errorf("loopback: %w", err)
		}
		res, err := m.cni.AddNetworkList(ctx, m.list, rt)
		if err != nil {
			return err
		}
		ip, err = podIP(res)
		return err
	})
	if err != nil {
		// Release what a half-done ADD may hold (IP, veth, rules).
		if derr := m.Teardown(ctx, podID, netnsPath); derr != nil {
			m.log.Warn("cleaning up after failed pod network setup", zap.String("pod", podID), zap.Error(derr))
		}
		return nil, fmt.Errorf("setting up network of pod %s: %w", podID, err)
	}
	m.log.Debug("pod network up", zap.String("pod", podID), zap.String("ip", ip.String()))
	return ip, nil
}

// podIP extracts the pod's IPv4 address (or its first address) from a CNI
// result.
func podIP(res types.Result) (net.IP, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, fmt.Errorf("converting CNI result: %w", err)
	}
	var first net.IP
	for _, ipc := range r.IPs {
		if ipc.Interface != nil && *ipc.Interface < len(r.Interfaces) && r.Interfaces[*ipc.Interface].Sandbox == "" {
			continue // an address on the host side
		}
		if ipc.Address.IP.To4() != nil {
			return ipc.Address.IP, nil
		}
		if first == nil {
			first = ipc.Address.IP
		}
	}
	if first == nil {
		return nil, errors.New("CNI result has no pod IP")
	}
	return first, nil
}

// PodIP returns the cached IP of a set-up pod.
func (m *Manager) PodIP(podID string) (net.IP, bool) {
	rt := &libcni.RuntimeConf{ContainerID: podID, IfName: podIfName}
	res, err := m.cni.GetNetworkListCachedResult(m.list, rt)
	if err != nil || res == nil {
		return nil, false
	}
	ip, err := podIP(res)
	return ip, err == nil
}

// Teardown detaches the pod from the pod network and releases its IP,
// hostPorts and masquerade rules. It succeeds when nothing is set up and when
// the namespace is already gone.
func (m *Manager) Teardown(ctx context.Context, podID, netnsPath string) error {
	if podID == "" {
		return fmt.Errorf("tearing down pod network: empty pod ID")
	}
	if netnsPath != "" {
		if _, err := os.Stat(netnsPath); err != nil {
			netnsPath = "" // gone: the plugins then only release host state
		}
	}
	rt := m.runtimeConf(podID, netnsPath, podIfName, nil)
	if _, cached, err := m.cni.GetNetworkListCachedConfig(m.list, rt); err == nil && cached != nil {
		// Port mappings are needed to remove the hostPort rules.
		rt.CapabilityArgs = cached.CapabilityArgs
	}
	err := m.inHost(func() error {
		if err := m.cni.DelNetworkList(ctx, m.list, rt); err != nil {
			return err
		}
		loRT := &libcni.RuntimeConf{ContainerID: podID, NetNS: netnsPath, IfName: "lo"}
		return m.cni.DelNetworkList(ctx, m.lo, loRT)
	})
	if err != nil {
		return fmt.Errorf("tearing down network of pod %s: %w", podID, err)
	}
	return nil
}
