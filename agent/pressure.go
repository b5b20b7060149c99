package agent

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Node pressure, as kubelet's eviction manager reports it: the
// MemoryPressure, DiskPressure and PIDPressure conditions, from the
// machine's free memory, the free space and inodes of the filesystems
// holding the agent's state (nodefs) and the images (imagefs), and the
// free process IDs. The node lifecycle controller taints a node under
// pressure (node.kubernetes.io/memory-pressure:NoSchedule …), so the
// scheduler places no new pod there that does not tolerate it.

// PressureSample is one reading of what the pressure conditions are
// computed from.
type PressureSample struct {
	MemoryAvailable int64 // bytes (MemAvailable of /proc/meminfo)

	NodeFSAvailable, NodeFSSize    uint64 // bytes
	NodeFSInodesFree, NodeFSInodes uint64
	ImageFSAvailable, ImageFSSize  uint64 // bytes; 0 when no imagefs was measured
	ProcessesInUse, ProcessesMax   int64  // tasks (threads) and kernel.pid_max
}

// PressureThresholds are the hard eviction thresholds pressure is judged
// by. DefaultPressureThresholds are kubelet's defaults on Linux
// (memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%,
// imagefs.available<15%); kubelet has no default for pid.available, and
// Strom uses 5% of kernel.pid_max.
type PressureThresholds struct {
	MemoryAvailable  int64   // bytes
	NodeFSAvailable  float64 // fraction of the filesystem
	NodeFSInodesFree float64
	ImageFSAvailable float64
	PIDAvailable     float64 // fraction of kernel.pid_max
}

// DefaultPressureThresholds: see PressureThresholds.
var DefaultPressureThresholds = PressureThresholds{
	MemoryAvailable:  100 << 20,
	NodeFSAvailable:  0.10,
	NodeFSInodesFree: 0.05,
	ImageFSAvailable: 0.15,
	PIDAvailable:     0.05,
}

// Pressures says which pressures a sample shows.
type Pressures struct{ Memory, Disk, PID bool }

// Judge applies th to s.
func (th PressureThresholds) Judge(s PressureSample) Pressures {
	below := func(avail, size uint64, frac float64) bool {
		return size > 0 && float64(avail) < frac*float64(size)
	}
	return Pressures{
		Memory: s.MemoryAvailable < th.MemoryAvailable,
		Disk: below(s.NodeFSAvailable, s.NodeFSSize, th.NodeFSAvailable) ||
			below(s.NodeFSInodesFree, s.NodeFSInodes, th.NodeFSInodesFree) ||
			below(s.ImageFSAvailable, s.ImageFSSize, th.ImageFSAvailable),
		PID: s.ProcessesMax > 0 && float64(s.ProcessesMax-s.ProcessesInUse) < th.PIDAvailable*float64(s.ProcessesMax),
	}
}

// pressureCondition is one pressure condition as kubelet words it.
type pressureCondition struct {
	typ                        corev1.NodeConditionType
	onReason, onMessage, onEv  string
	offReason, offMessage, off string
}

var pressureConditions = []pressureCondition{
	{corev1.NodeMemoryPressure, "KubeletHasInsufficientMemory", "kubelet has insufficient memory available", "NodeHasInsufficientMemory",
		"KubeletHasSufficientMemory", "kubelet has sufficient memory available", "NodeHasSufficientMemory"},
	{corev1.NodeDiskPressure, "KubeletHasDiskPressure", "kubelet has disk pressure", "NodeHasDiskPressure",
		"KubeletHasNoDiskPressure", "kubelet has no disk pressure", "NodeHasNoDiskPressure"},
	{corev1.NodePIDPressure, "KubeletHasInsufficientPID", "kubelet has insufficient PID available", "NodeHasInsufficientPID",
		"KubeletHasSufficientPID", "kubelet has sufficient PID available", "NodeHasSufficientPID"},
}

// withPressures returns conds with the three pressure conditions set from
// p, and the Events of the transitions; nil conditions when nothing
// changes. A condition's transition time moves only when its status does.
func withPressures(conds []corev1.NodeCondition, p Pressures, now metav1.Time) ([]corev1.NodeCondition, []string) {
	on := map[corev1.NodeConditionType]bool{corev1.NodeMemoryPressure: p.Memory, corev1.NodeDiskPressure: p.Disk, corev1.NodePIDPressure: p.PID}
	out := conds
	var evs []string
	changedAny := false
	for _, pc := range pressureConditions {
		want := corev1.NodeCondition{Type: pc.typ, Status: corev1.ConditionFalse, Reason: pc.offReason, Message: pc.offMessage,
			LastHeartbeatTime: now, LastTransitionTime: now}
		ev := pc.off
		if on[pc.typ] {
			want.Status, want.Reason, want.Message, ev = corev1.ConditionTrue, pc.onReason, pc.onMessage, pc.onEv
		}
		var changed, transitioned bool
		out, changed, transitioned = setCondition(out, want)
		if transitioned {
			evs = append(evs, ev)
		}
		changedAny = changedAny || changed
	}
	if !changedAny {
		return nil, nil
	}
	return out, evs
}

// SamplePressure reads the machine: /proc/meminfo, statfs of nodeFS and
// imageFS (imageFS may be "" or missing: only nodeFS counts), the
// number of tasks in /proc/loadavg and kernel.pid_max.
func SamplePressure(nodeFS, imageFS string) (PressureSample, error) {
	var s PressureSample
	mem, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return s, fmt.Errorf("reading memory: %w", err)
	}
	if s.MemoryAvailable, err = meminfoField(string(mem), "MemAvailable"); err != nil {
		return s, err
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(nodeFS, &st); err != nil {
		return s, fmt.Errorf("statfs %s: %w", nodeFS, err)
	}
	s.NodeFSAvailable, s.NodeFSSize = st.Bavail*uint64(st.Bsize), st.Blocks*uint64(st.Bsize)
	s.NodeFSInodesFree, s.NodeFSInodes = st.Ffree, st.Files
	if imageFS != "" {
		var ist syscall.Statfs_t
		if err := syscall.Statfs(imageFS, &ist); err == nil {
			s.ImageFSAvailable, s.ImageFSSize = ist.Bavail*uint64(ist.Bsize), ist.Blocks*uint64(ist.Bsize)
		}
	}
	load, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return s, fmt.Errorf("reading /proc/loadavg: %w", err)
	}
	if f := strings.Fields(string(load)); len(f) >= 4 {
		if _, tasks, ok := strings.Cut(f[3], "/"); ok {
			s.ProcessesInUse, _ = strconv.ParseInt(tasks, 10, 64)
		}
	}
	if pm, err := os.ReadFile("/proc/sys/kernel/pid_max"); err == nil {
		s.ProcessesMax, _ = strconv.ParseInt(strings.TrimSpace(string(pm)), 10, 64)
	}
	return s, nil
}

func meminfoField(meminfo, name string) (int64, error) {
	for _, line := range strings.Split(meminfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != name {
			continue
		}
		q, err := resource.ParseQuantity(strings.ReplaceAll(strings.TrimSpace(v), " kB", "Ki"))
		if err != nil {
			return 0, fmt.Errorf("/proc/meminfo %s %q: %w", name, v, err)
		}
		return q.Value(), nil
	}
	return 0, fmt.Errorf("/proc/meminfo has no %s", name)
}

// PressureSource is implemented by pod managers of a real machine
// (RealPods'): the agent samples it every Config.PressureCheck and
// reports the pressure conditions.
type PressureSource interface {
	Pressure() (PressureSample, PressureThresholds, error)
}

// reportPressure writes the pressure conditions of p (see
// conditionReporter).
func reportPressure(ctx context.Context, r *conditionReporter[Pressures], p Pressures) {
	r.report(ctx, p, func(conds []corev1.NodeCondition, now metav1.Time) ([]corev1.NodeCondition, []string) {
		return withPressures(conds, p, now)
	}, func() {
		r.log.Info("node pressure", zap.Bool("memory", p.Memory), zap.Bool("disk", p.Disk), zap.Bool("pid", p.PID))
	})
}

// watchPressure samples src every interval (and at once) until ctx ends.
func (a *Agent) watchPressure(ctx context.Context, src PressureSource, every time.Duration) {
	rep := &conditionReporter[Pressures]{st: a.status, node: a.cfg.NodeName, log: a.log, what: "node pressure"}
	sampleErr := ""
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s, th, err := src.Pressure()
		switch {
		case err != nil:
			if err.Error() != sampleErr {
				a.log.Warn("sampling node pressure", zap.Error(err))
				sampleErr = err.Error()
			}
		default:
			sampleErr = ""
			reportPressure(ctx, rep, th.Judge(s))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
