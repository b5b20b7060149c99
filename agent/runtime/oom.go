package runtime

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	containerd "github.com/containerd/containerd"
	"go.uber.org/zap"
)

// cgroupRoot is where cgroup filesystems are mounted.
var cgroupRoot = "/sys/fs/cgroup"

// oomKilled tells whether the container's exited task was killed by the OOM
// killer. It reads the oom_kill counter of the container's memory cgroup
// (cgroup v1 memory.oom_control, cgroup v2 memory.events) while the stopped
// task still holds it, and remembers a positive answer in a label so it
// survives task deletion.
func (c *Containerd) oomKilled(ctx context.Context, ctr containerd.Container, labels map[string]string) bool {
	if labels[LabelOOMKilled] == "true" {
		return true
	}
	spec, err := ctr.Spec(ctx)
	if err != nil || spec.Linux == nil || spec.Linux.CgroupsPath == "" {
		return false
	}
	n, ok := readOOMKills(spec.Linux.CgroupsPath)
	if !ok || n == 0 {
		return false
	}
	if _, err := ctr.SetLabels(ctx, map[string]string{LabelOOMKilled: "true"}); err != nil {
		c.log.Warn("recording OOM kill", zap.String("id", ctr.ID()), zap.Error(err))
	}
	return true
}

// readOOMKills returns the oom_kill count of a cgroup path.
func readOOMKills(cgroupsPath string) (int, bool) {
	candidates := []string{
		filepath.Join(cgroupRoot, "memory", cgroupsPath, "memory.oom_control"), // v1
		filepath.Join(cgroupRoot, cgroupsPath, "memory.events"),                // v2
	}
	for _, p := range candidates {
		if n, ok := readKeyedCounter(p, "oom_kill"); ok {
			return n, true
		}
	}
	return 0, false
}

// readKeyedCounter reads "key value" lines and returns the value of key.
func readKeyedCounter(path, key string) (int, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}
