package volumes

import (
	"fmt"
	"os"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
)

// checkHostPath applies a hostPath volume's type, creating what the
// *OrCreate types ask for.
func checkHostPath(src *corev1.HostPathVolumeSource) error {
	p := src.Path
	if !filepath.IsAbs(p) {
		return fmt.Errorf("hostPath %q is not absolute", p)
	}
	typ := corev1.HostPathUnset
	if src.Type != nil {
		typ = *src.Type
	}
	fi, err := os.Stat(p)
	exists := err == nil
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("checking hostPath %s: %w", p, err)
	}
	mode := func(want os.FileMode, what string) error {
		if !exists {
			return fmt.Errorf("hostPath type check failed: %s is not a %s (it does not exist)", p, what)
		}
		if fi.Mode().Type() != want {
			return fmt.Errorf("hostPath type check failed: %s is not a %s", p, what)
		}
		return nil
	}
	switch typ {
	case corev1.HostPathUnset:
		return nil
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return fmt.Errorf("creating hostPath directory %s: %w", p, err)
			}
			return nil
		}
		return mode(os.ModeDir, "directory")
	case corev1.HostPathDirectory:
		return mode(os.ModeDir, "directory")
	case corev1.HostPathFileOrCreate:
		if !exists {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return fmt.Errorf("creating parent of hostPath file %s: %w", p, err)
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("creating hostPath file %s: %w", p, err)
			}
			return f.Close()
		}
		return mode(0, "file")
	case corev1.HostPathFile:
		return mode(0, "file")
	case corev1.HostPathSocket:
		return mode(os.ModeSocket, "socket")
	case corev1.HostPathCharDev:
		return mode(os.ModeDevice|os.ModeCharDevice, "character device")
	case corev1.HostPathBlockDev:
		return mode(os.ModeDevice, "block device")
	}
	return fmt.Errorf("hostPath %s: unknown type %q", p, typ)
}
