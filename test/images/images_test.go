package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// readArchive returns the files of an image archive by name.
func readArchive(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatalf("reading archive: %v", err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s: %v", hdr.Name, err)
		}
		files[hdr.Name] = b
	}
}

func TestWriteArchiveIsConsistentOCILayout(t *testing.T) {
	files := []File{
		{Path: "/bin/tool", Mode: 0o755, Data: []byte("#!/bin/sh\necho hi\n")},
		{Path: "/bin/alias", Mode: 0o777, Link: "tool"},
		{Path: "/var/empty", Mode: 0o755, Dir: true},
	}
	var buf bytes.Buffer
	cfg := Config{Entrypoint: []string{"/bin/tool"}, Cmd: []string{"x"}, Env: []string{"A=b"}}
	if err := WriteArchive(&buf, "strom.test/tool:2", files, cfg); err != nil {
		t.Fatalf("WriteArchive: %v", err)
	}
	ar := readArchive(t, buf.Bytes())

	// Every blob is stored under its own digest.
	for name, data := range ar {
		if !strings.HasPrefix(name, "blobs/sha256/") || strings.HasSuffix(name, "/") {
			continue
		}
		if got := digest.FromBytes(data).Encoded(); got != strings.TrimPrefix(name, "blobs/sha256/") {
			t.Errorf("blob %s has digest %s", name, got)
		}
	}
	var idx ocispec.Index
	if err := json.Unmarshal(ar["index.json"], &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	if len(idx.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(idx.Manifests))
	}
	md := idx.Manifests[0]
	if got := md.Annotations["io.containerd.image.name"]; got != "strom.test/tool:2" {
		t.Errorf("image name annotation = %q", got)
	}
	if got := md.Annotations[ocispec.AnnotationRefName]; got != "2" {
		t.Errorf("ref name annotation = %q, want 2", got)
	}
	var mf ocispec.Manifest
	if err := json.Unmarshal(ar["blobs/sha256/"+md.Digest.Encoded()], &mf); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	var img ocispec.Image
	if err := json.Unmarshal(ar["blobs/sha256/"+mf.Config.Digest.Encoded()], &img); err != nil {
		t.Fatalf("config: %v", err)
	}
	if strings.Join(img.Config.Entrypoint, " ") != "/bin/tool" || strings.Join(img.Config.Env, ",") != "A=b" {
		t.Errorf("config = %+v", img.Config)
	}
	// The diff ID is the digest of the uncompressed layer.
	zr, err := gzip.NewReader(bytes.NewReader(ar["blobs/sha256/"+mf.Layers[0].Digest.Encoded()]))
	if err != nil {
		t.Fatalf("layer is not gzip: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("decompressing layer: %v", err)
	}
	if got := digest.FromBytes(raw); got != img.RootFS.DiffIDs[0] {
		t.Errorf("diff id = %s, layer digest %s", img.RootFS.DiffIDs[0], got)
	}
	layer := readArchive(t, raw)
	for _, want := range []string{"bin/", "bin/tool", "bin/alias", "var/", "var/empty/"} {
		if _, ok := layer[want]; !ok {
			t.Errorf("layer lacks %s; has %v", want, keys(layer))
		}
	}
	// Reproducible: the same input gives the same bytes.
	var again bytes.Buffer
	if err := WriteArchive(&again, "strom.test/tool:2", files, cfg); err != nil {
		t.Fatalf("WriteArchive: %v", err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("two builds of the same image differ")
	}
}

func TestBusyboxAppletsExist(t *testing.T) {
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		t.Fatalf("running %s --list (apt-get install -y busybox-static): %v", BusyboxPath, err)
	}
	have := map[string]bool{}
	for _, a := range strings.Fields(string(out)) {
		have[a] = true
	}
	for _, a := range BusyboxApplets {
		if !have[a] {
			t.Errorf("applet %q is not in %s", a, BusyboxPath)
		}
	}
}

func TestBuildAll(t *testing.T) {
	dir := t.TempDir()
	archives, err := BuildAll(context.Background(), dir)
	if err != nil {
		t.Fatalf("BuildAll: %v", err)
	}
	names := map[string]bool{}
	for _, a := range archives {
		names[a.Name] = true
		if st, err := os.Stat(a.Path); err != nil || st.Size() == 0 {
			t.Errorf("archive %s: %v", a.Path, err)
		}
	}
	if !names[Busybox] || !names[HTTPServer] {
		t.Errorf("built %v", names)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
