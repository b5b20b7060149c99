package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"time"

	digest "github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// epoch is the modification time of every file in every layer, so builds are
// reproducible.
var epoch = time.Unix(0, 0).UTC()

// File is one entry of a layer. Exactly one of Data (regular file), Link
// (symlink target) or Dir is meaningful.
type File struct {
	Path string // absolute path inside the image, e.g. /bin/busybox
	Mode int64  // permission bits
	Data []byte
	Link string
	Dir  bool
}

// Config is the part of the OCI image config the test images set.
type Config struct {
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	Ports      []string // e.g. "8080/tcp"
}

// blob is content addressed by its digest inside blobs/sha256.
type blob struct {
	desc ocispec.Descriptor
	data []byte
}

// layer builds a gzip-compressed tar of files, sorted by path, with parent
// directories added. It returns the compressed blob and the diff ID (digest of
// the uncompressed tar).
func layer(files []File) (blob, digest.Digest, error) {
	all := withParents(files)
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range all {
		name := f.Path[1:] // strip leading "/"
		hdr := &tar.Header{Name: name, Mode: f.Mode, ModTime: epoch, Uid: 0, Gid: 0, Format: tar.FormatPAX}
		switch {
		case f.Dir:
			hdr.Typeflag = tar.TypeDir
			hdr.Name += "/"
		case f.Link != "":
			hdr.Typeflag = tar.TypeSymlink
			hdr.Linkname = f.Link
		default:
			hdr.Typeflag = tar.TypeReg
			hdr.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return blob{}, "", fmt.Errorf("writing tar header %s: %w", f.Path, err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return blob{}, "", fmt.Errorf("writing %s: %w", f.Path, err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		return blob{}, "", fmt.Errorf("closing layer tar: %w", err)
	}
	diffID := digest.FromBytes(raw.Bytes())

	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if err != nil {
		return blob{}, "", err
	}
	zw.ModTime = epoch
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return blob{}, "", fmt.Errorf("compressing layer: %w", err)
	}
	if err := zw.Close(); err != nil {
		return blob{}, "", fmt.Errorf("compressing layer: %w", err)
	}
	b := newBlob(ocispec.MediaTypeImageLayerGzip, gz.Bytes())
	return b, diffID, nil
}

// withParents returns files plus every missing parent directory, sorted so
// that directories come before their contents.
func withParents(files []File) []File {
	seen := map[string]bool{}
	var out []File
	for _, f := range files {
		seen[f.Path] = true
	}
	for _, f := range files {
		for d := path.Dir(f.Path); d != "/" && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			out = append(out, File{Path: d, Mode: 0o755, Dir: true})
		}
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func newBlob(mediaType string, data []byte) blob {
	sum := sha256.Sum256(data)
	return blob{
		desc: ocispec.Descriptor{
			MediaType: mediaType,
			Digest:    digest.NewDigestFromBytes(digest.SHA256, sum[:]),
			Size:      int64(len(data)),
		},
		data: data,
	}
}

func jsonBlob(mediaType string, v any) (blob, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return blob{}, fmt.Errorf("encoding %s: %w", mediaType, err)
	}
	return newBlob(mediaType, data), nil
}

// WriteArchive writes a single-layer image named name (a full reference such
// as strom.test/busybox:1) as an OCI layout tar to w.
func WriteArchive(w io.Writer, name string, files []File, cfg Config) error {
	lay, diffID, err := layer(files)
	if err != nil {
		return fmt.Errorf("building layer of %s: %w", name, err)
	}
	ports := map[string]struct{}{}
	for _, p := range cfg.Ports {
		ports[p] = struct{}{}
	}
	img := ocispec.Image{
		Created:  &epoch,
		Platform: ocispec.Platform{Architecture: "amd64", OS: "linux"},
		Config: ocispec.ImageConfig{
			Entrypoint:   cfg.Entrypoint,
			Cmd:          cfg.Cmd,
			Env:          cfg.Env,
			WorkingDir:   cfg.WorkingDir,
			ExposedPorts: ports,
		},
		RootFS:  ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{diffID}},
		History: []ocispec.History{{Created: &epoch, CreatedBy: "strom test/images/build"}},
	}
	cfgBlob, err := jsonBlob(ocispec.MediaTypeImageConfig, img)
	if err != nil {
		return err
	}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfgBlob.desc,
		Layers:    []ocispec.Descriptor{lay.desc},
	}
	mfBlob, err := jsonBlob(ocispec.MediaTypeImageManifest, manifest)
	if err != nil {
		return err
	}
	mfDesc := mfBlob.desc
	mfDesc.Platform = &ocispec.Platform{Architecture: "amd64", OS: "linux"}
	mfDesc.Annotations = map[string]string{
		"io.containerd.image.name": name,
		ocispec.AnnotationRefName:  refTag(name),
	}
	index := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: []ocispec.Descriptor{mfDesc},
	}
	indexJSON, err := json.Marshal(index)
	if err != nil {
		return fmt.Errorf("encoding index: %w", err)
	}
	layoutJSON, err := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err != nil {
		return err
	}
	dockerManifest, err := json.Marshal([]map[string]any{{
		"Config":   blobPath(cfgBlob.desc.Digest),
		"RepoTags": []string{name},
		"Layers":   []string{blobPath(lay.desc.Digest)},
	}})
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	entries := []struct {
		name string
		data []byte
	}{
		{ocispec.ImageLayoutFile, layoutJSON},
		{"index.json", indexJSON},
		{"manifest.json", dockerManifest},
		{blobPath(cfgBlob.desc.Digest), cfgBlob.data},
		{blobPath(lay.desc.Digest), lay.data},
		{blobPath(mfBlob.desc.Digest), mfBlob.data},
	}
	for _, dir := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(&tar.Header{Name: dir, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: epoch}); err != nil {
			return fmt.Errorf("writing archive of %s: %w", name, err)
		}
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(e.data)), ModTime: epoch}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("writing archive of %s: %w", name, err)
		}
		if _, err := tw.Write(e.data); err != nil {
			return fmt.Errorf("writing archive of %s: %w", name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return fmt.Errorf("closing archive of %s: %w", name, err)
	}
	return nil
}

func blobPath(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// refTag returns the tag of a reference ("strom.test/busybox:1" -> "1"), the
// value OCI layouts put in org.opencontainers.image.ref.name.
func refTag(name string) string {
	for i := len(name) - 1; i >= 0 && name[i] != '/'; i-- {
		if name[i] == ':' {
			return name[i+1:]
		}
	}
	return "latest"
}
