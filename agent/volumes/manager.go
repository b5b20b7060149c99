package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// Manager prepares and removes pod volumes under Root.
type Manager struct {
	Root    string // volumes live under Root/pods/<uid>/volumes
	Objects Objects
	Log     *zap.Logger
	Clock   clock.PassiveClock
}

// New returns a Manager.
func New(root string, objects Objects, log *zap.Logger, clk clock.PassiveClock) *Manager {
	if log == nil {
		log = zap.NewNop()
	}
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Manager{Root: root, Objects: objects, Log: log, Clock: clk}
}

// PodDir is the directory of one pod's state.
func (m *Manager) PodDir(uid string) string { return filepath.Join(m.Root, "pods", uid) }

func (m *Manager) volumeDir(uid, name string) string {
	return filepath.Join(m.PodDir(uid), "volumes", name)
}

// Paths maps volume names to host paths.
type Paths map[string]string

// Setup creates or refreshes every volume of the pod and returns where each
// lives on the host. Volumes it cannot prepare are reported by name in the
// second result (a *ConfigError for missing ConfigMaps and Secrets); the
// others are still prepared and present in Paths.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) (Paths, map[string]error) {
	uid := string(pod.UID)
	errs := map[string]error{}
	if uid == "" || strings.ContainsAny(uid, "/\x00") || uid == "." || uid == ".." {
		for _, v := range pod.Spec.Volumes {
			errs[v.Name] = fmt.Errorf("invalid pod UID %q", uid)
		}
		return Paths{}, errs
	}
	paths := Paths{}
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		p, err := m.setupVolume(ctx, pod, v)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				err = fmt.Errorf("volume %q: %w", v.Name, err)
			}
			errs[v.Name] = err
			continue
		}
		paths[v.Name] = p
	}
	return paths, errs
}

func (m *Manager) setupVolume(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (string, error) {
	dir := m.volumeDir(string(pod.UID), v.Name)
	var files map[string]File
	var err error
	switch {
	case v.EmptyDir != nil:
		return dir, m.emptyDir(dir, v.EmptyDir)
	case v.HostPath != nil:
		return v.HostPath.Path, checkHostPath(v.HostPath)
	case v.ConfigMap != nil:
		files, err = configMapFiles(ctx, m.Objects, pod.Namespace, v.ConfigMap)
	case v.Secret != nil:
		files, err = secretFiles(ctx, m.Objects, pod.Namespace, v.Secret)
	case v.DownwardAPI != nil:
		files, err = downwardAPIFiles(pod, v.DownwardAPI)
	default:
		return "", fmt.Errorf("unsupported volume source")
	}
	if err != nil {
		return "", err
	}
	if _, err := WriteAtomic(dir, files, m.Clock.Now()); err != nil {
		return "", err
	}
	return dir, nil
}

func (m *Manager) emptyDir(dir string, src *corev1.EmptyDirVolumeSource) error {
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return fmt.Errorf("creating emptyDir %s: %w", dir, err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return fmt.Errorf("chmod emptyDir %s: %w", dir, err)
	}
	if src.Medium != corev1.StorageMediumMemory {
		return nil
	}
	mounted, err := isMountPoint(dir)
	if err != nil || mounted {
		return err
	}
	opts := "mode=1777"
	if src.SizeLimit != nil && src.SizeLimit.Value() > 0 {
		opts += fmt.Sprintf(",size=%d", src.SizeLimit.Value())
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mounting tmpfs on %s: %w", dir, err)
	}
	return nil
}

// Teardown unmounts and removes everything of the pod under Root. It is
// idempotent.
func (m *Manager) Teardown(uid string) error {
	dir := m.PodDir(uid)
	if uid == "" || strings.Contains(uid, "/") {
		return fmt.Errorf("invalid pod UID %q", uid)
	}
	mps, err := mountsUnder(dir)
	if err != nil {
		return err
	}
	for _, mp := range mps {
		if err := unix.Unmount(mp, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("unmounting %s: %w", mp, err)
		}
	}
	// Never delete through a mount that is still there.
	if left, err := mountsUnder(dir); err != nil {
		return err
	} else if len(left) > 0 {
		return fmt.Errorf("removing volumes of pod %s: still mounted: %v", uid, left)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("removing volumes of pod %s: %w", uid, err)
	}
	return nil
}

// PodUIDs lists the pods that have a directory under Root.
func (m *Manager) PodUIDs() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(m.Root, "pods"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing pod volume dirs: %w", err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
