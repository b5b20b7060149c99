package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/pkg/netns"
	"go.uber.org/zap"
)

const sandboxFile = "sandbox.json"

// validPodUID rejects UIDs that are not a single safe path component.
func validPodUID(uid string) error {
	if uid == "" || uid == "." || uid == ".." || strings.ContainsAny(uid, "/\\\x00") {
		return fmt.Errorf("invalid pod UID %q", uid)
	}
	return nil
}

// CreateSandbox pins a network namespace for the pod and writes its files.
func (c *Containerd) CreateSandbox(ctx context.Context, cfg SandboxConfig) (Sandbox, error) {
	if err := validPodUID(cfg.PodUID); err != nil {
		return Sandbox{}, err
	}
	if sb, err := c.Sandbox(ctx, cfg.PodUID); err == nil {
		if _, err := os.Stat(sb.NetNSPath); err == nil {
			return sb, nil
		}
		// The namespace is gone (e.g. after a reboot): build a new one.
		c.log.Warn("sandbox lost its network namespace; recreating", zap.String("pod", cfg.PodUID), zap.String("netns", sb.NetNSPath))
	}
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = cfg.Name
	}
	dir := c.sandboxDir(cfg.PodUID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Sandbox{}, fmt.Errorf("creating sandbox dir of pod %s: %w", cfg.PodUID, err)
	}
	ns, err := netns.NewNetNS(c.cfg.NetNSDir)
	if err != nil {
		return Sandbox{}, fmt.Errorf("creating network namespace of pod %s: %w", cfg.PodUID, err)
	}
	sb := Sandbox{
		PodUID:    cfg.PodUID,
		Namespace: cfg.Namespace,
		Name:      cfg.Name,
		Hostname:  hostname,
		NetNSPath: ns.GetPath(),
		Dir:       dir,
		Created:   c.clock.Now().UTC(),
	}
	files := map[string]string{
		"hostname":     hostname + "\n",
		"hosts":        HostsFile(hostname, "", cfg.HostAliases),
		"resolv.conf":  ResolvConf(cfg.DNS),
		"aliases.json": mustJSON(cfg.HostAliases),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			_ = ns.Remove()
			return Sandbox{}, fmt.Errorf("writing %s of pod %s: %w", name, cfg.PodUID, err)
		}
	}
	if err := c.saveSandbox(sb); err != nil {
		_ = ns.Remove()
		return Sandbox{}, err
	}
	c.log.Info("created sandbox", zap.String("pod", cfg.Namespace+"/"+cfg.Name), zap.String("uid", cfg.PodUID), zap.String("netns", sb.NetNSPath))
	return sb, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

// saveSandbox writes sandbox.json atomically.
func (c *Containerd) saveSandbox(sb Sandbox) error {
	data, err := json.MarshalIndent(sb, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding sandbox of pod %s: %w", sb.PodUID, err)
	}
	tmp := filepath.Join(sb.Dir, sandboxFile+".tmp")
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("writing sandbox of pod %s: %w", sb.PodUID, err)
	}
	if err := os.Rename(tmp, filepath.Join(sb.Dir, sandboxFile)); err != nil {
		return fmt.Errorf("writing sandbox of pod %s: %w", sb.PodUID, err)
	}
	return nil
}

// SetSandboxIP records the pod IP and rewrites /etc/hosts in place (the file
// is bind-mounted into running containers, so its inode must not change).
func (c *Containerd) SetSandboxIP(ctx context.Context, podUID, ip string) (Sandbox, error) {
	sb, err := c.Sandbox(ctx, podUID)
	if err != nil {
		return Sandbox{}, err
	}
	var aliases map[string][]string
	if b, err := os.ReadFile(filepath.Join(sb.Dir, "aliases.json")); err == nil {
		_ = json.Unmarshal(b, &aliases)
	}
	hosts := HostsFile(sb.Hostname, ip, aliases)
	if err := os.WriteFile(filepath.Join(sb.Dir, "hosts"), []byte(hosts), 0o644); err != nil {
		return Sandbox{}, fmt.Errorf("writing hosts of pod %s: %w", podUID, err)
	}
	sb.IP = ip
	if err := c.saveSandbox(sb); err != nil {
		return Sandbox{}, err
	}
	return sb, nil
}

// Sandbox reads a pod's sandbox record.
func (c *Containerd) Sandbox(ctx context.Context, podUID string) (Sandbox, error) {
	if err := validPodUID(podUID); err != nil {
		return Sandbox{}, err
	}
	data, err := os.ReadFile(filepath.Join(c.sandboxDir(podUID), sandboxFile))
	if errors.Is(err, os.ErrNotExist) {
		return Sandbox{}, fmt.Errorf("sandbox of pod %s: %w", podUID, ErrNotFound)
	}
	if err != nil {
		return Sandbox{}, fmt.Errorf("reading sandbox of pod %s: %w", podUID, err)
	}
	var sb Sandbox
	if err := json.Unmarshal(data, &sb); err != nil {
		return Sandbox{}, fmt.Errorf("decoding sandbox of pod %s: %w", podUID, err)
	}
	return sb, nil
}

// ListSandboxes lists every sandbox recorded under the state directory.
func (c *Containerd) ListSandboxes(ctx context.Context) ([]Sandbox, error) {
	entries, err := os.ReadDir(filepath.Join(c.cfg.StateDir, "sandboxes"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing sandboxes: %w", err)
	}
	var out []Sandbox
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sb, err := c.Sandbox(ctx, e.Name())
		if errors.Is(err, ErrNotFound) {
			continue // half-created; RemoveSandbox cleans it
		}
		if err != nil {
			return nil, err
		}
		out = append(out, sb)
	}
	return out, nil
}

// RemoveSandbox unpins the network namespace and removes the pod's files and
// logs. Removing a missing sandbox succeeds.
func (c *Containerd) RemoveSandbox(ctx context.Context, podUID string) error {
	if err := validPodUID(podUID); err != nil {
		return err
	}
	sb, err := c.Sandbox(ctx, podUID)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	default:
		if err := netns.LoadNetNS(sb.NetNSPath).Remove(); err != nil {
			return fmt.Errorf("removing network namespace of pod %s: %w", podUID, err)
		}
		if err := os.RemoveAll(PodLogDir(c.cfg.LogDir, sb.Namespace, sb.Name, sb.PodUID)); err != nil {
			return fmt.Errorf("removing logs of pod %s: %w", podUID, err)
		}
	}
	if err := os.RemoveAll(c.sandboxDir(podUID)); err != nil {
		return fmt.Errorf("removing sandbox dir of pod %s: %w", podUID, err)
	}
	return nil
}
