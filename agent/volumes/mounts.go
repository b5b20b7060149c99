package volumes

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/strom-project/strom/agent/runtime"
	corev1 "k8s.io/api/core/v1"
)

// ContainerMounts turns a container's volumeMounts into bind mounts of the
// prepared volumes. configMap, secret and downwardAPI volumes are always
// read-only.
func ContainerMounts(pod *corev1.Pod, c *corev1.Container, paths Paths) ([]runtime.Mount, error) {
	vols := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		vols[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	var out []runtime.Mount
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volumeMount %q of container %s refers to no volume", vm.Name, c.Name)
		}
		host, ok := paths[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volume %q of container %s is not ready", vm.Name, c.Name)
		}
		if vm.SubPath != "" {
			if err := validRelPath(vm.SubPath); err != nil {
				return nil, fmt.Errorf("subPath of %q: %w", vm.Name, err)
			}
			host = filepath.Join(host, vm.SubPath)
			if _, err := os.Lstat(host); os.IsNotExist(err) {
				if err := os.MkdirAll(host, 0o755); err != nil {
					return nil, fmt.Errorf("creating subPath %s: %w", host, err)
				}
			}
		}
		ro := vm.ReadOnly || v.ConfigMap != nil || v.Secret != nil || v.DownwardAPI != nil
		out = append(out, runtime.Mount{HostPath: host, ContainerPath: vm.MountPath, ReadOnly: ro})
	}
	return out, nil
}

// mountsUnder lists mount points at or below dir, deepest first.
func mountsUnder(dir string) ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, fmt.Errorf("reading mountinfo: %w", err)
	}
	defer f.Close()
	dir = filepath.Clean(dir)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescape(fields[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading mountinfo: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out, nil
}

func isMountPoint(dir string) (bool, error) {
	mps, err := mountsUnder(dir)
	if err != nil {
		return false, err
	}
	for _, mp := range mps {
		if mp == filepath.Clean(dir) {
			return true, nil
		}
	}
	return false, nil
}

// unescape decodes mountinfo's octal escapes (\040 for space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
