package fsutil

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "admin.conf")
	for _, v := range []string{"one", "two"} {
		if err := WriteFile(p, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != v {
			t.Fatalf("read %q, %v; want %q", got, err, v)
		}
	}
	st, _ := os.Stat(p)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want only the file (no temporaries)", len(entries))
	}
}

func TestWriteFileExclusiveRefusesAnExistingFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cluster-id")
	if err := WriteFileExclusive(p, []byte("a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := WriteFileExclusive(p, []byte("b\n"), 0o644)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second create: %v, want ErrExist", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "a\n" {
		t.Fatalf("file now %q, want the first content kept", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(entries))
	}
}

func TestWriteFileNamesTheFileOnError(t *testing.T) {
	p := filepath.Join(t.TempDir(), "missing-dir", "x")
	err := WriteFile(p, []byte("x"), 0o600)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want a not-exist error", err)
	}
}
