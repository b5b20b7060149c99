package volumes

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// File is one file of a projected volume.
type File struct {
	Data []byte
	Mode os.FileMode
}

const dataDirName = "..data"

// WriteAtomic makes dir hold exactly files (relative paths), swapping the
// whole set at once: files go to a new hidden timestamped directory, the
// ..data symlink is renamed onto it, the visible top-level names are
// symlinks through ..data, and the previous directory is removed. Nothing is
// rewritten when the payload is unchanged. It reports whether it wrote.
func WriteAtomic(dir string, files map[string]File, now time.Time) (bool, error) {
	for p := range files {
		if err := validRelPath(p); err != nil {
			return false, err
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("creating %s: %w", dir, err)
	}
	dataLink := filepath.Join(dir, dataDirName)
	oldTS, _ := os.Readlink(dataLink)
	if oldTS != "" && sameContent(filepath.Join(dir, oldTS), files) {
		return false, nil
	}
	tsDir, err := os.MkdirTemp(dir, ".."+now.UTC().Format("2006_01_02_15_04_05.")+"")
	if err != nil {
		return false, fmt.Errorf("creating payload dir in %s: %w", dir, err)
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return false, fmt.Errorf("chmod %s: %w", tsDir, err)
	}
	for p, f := range files {
		full := filepath.Join(tsDir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return false, fmt.Errorf("creating %s: %w", filepath.Dir(full), err)
		}
		if err := os.WriteFile(full, f.Data, f.Mode); err != nil {
			return false, fmt.Errorf("writing %s: %w", full, err)
		}
		if err := os.Chmod(full, f.Mode); err != nil {
			return false, fmt.Errorf("chmod %s: %w", full, err)
		}
	}
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return false, fmt.Errorf("linking %s: %w", tmpLink, err)
	}
	if err := os.Rename(tmpLink, dataLink); err != nil {
		return false, fmt.Errorf("swapping %s: %w", dataLink, err)
	}
	// Visible names: one symlink per top-level path component.
	want := map[string]bool{}
	for p := range files {
		want[strings.SplitN(p, "/", 2)[0]] = true
	}
	for name := range want {
		link := filepath.Join(dir, name)
		target := filepath.Join(dataDirName, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		tmp := link + ".tmp-link"
		_ = os.Remove(tmp)
		if err := os.Symlink(target, tmp); err != nil {
			return false, fmt.Errorf("linking %s: %w", link, err)
		}
		if err := os.Rename(tmp, link); err != nil {
			return false, fmt.Errorf("linking %s: %w", link, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", dir, err)
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case n == dataDirName || n == filepath.Base(tsDir):
		case strings.HasPrefix(n, ".."):
			if err := os.RemoveAll(filepath.Join(dir, n)); err != nil {
				return false, fmt.Errorf("removing old payload %s: %w", n, err)
			}
		case !want[n]:
			if err := os.Remove(filepath.Join(dir, n)); err != nil {
				return false, fmt.Errorf("removing stale %s: %w", n, err)
			}
		}
	}
	return true, nil
}

// sameContent tells whether dir holds exactly files with the same data and
// modes.
func sameContent(dir string, files map[string]File) bool {
	n := 0
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		f, ok := files[filepath.ToSlash(rel)]
		if !ok || info.Mode().Perm() != f.Mode.Perm() {
			return errDiffers
		}
		b, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(b, f.Data) {
			return errDiffers
		}
		n++
		return nil
	})
	return err == nil && n == len(files)
}

var errDiffers = fmt.Errorf("differs")

func validRelPath(p string) error {
	if p == "" || filepath.IsAbs(p) || strings.HasPrefix(p, "..") {
		return fmt.Errorf("invalid file path %q in volume", p)
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." || part == "" {
			return fmt.Errorf("invalid file path %q in volume", p)
		}
	}
	return nil
}

// fileMode picks an item's mode, else the volume's default, else 0644.
func fileMode(item, def *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item) & 0o777
	case def != nil:
		return os.FileMode(*def) & 0o777
	}
	return 0o644
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
