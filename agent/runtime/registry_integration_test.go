package runtime

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/strom-project/strom/test/images"
)

// testRegistry serves one image from an OCI archive over the registry API
// on loopback, behind basic auth.
type testRegistry struct {
	*httptest.Server
	user, pass     string
	manifest       []byte
	manifestDigest string
	blobs          map[string][]byte // by digest

	mu              sync.Mutex
	manifestGets    int
	blobGets        int
	authorizedCalls int
}

func newTestRegistry(t *testing.T, archive, user, pass string) *testRegistry {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatalf("opening %s: %v", archive, err)
	}
	defer f.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", archive, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatalf("reading %s: %v", hdr.Name, err)
		}
		files[hdr.Name] = b
	}
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatalf("index.json: %v", err)
	}
	r := &testRegistry{user: user, pass: pass, blobs: map[string][]byte{}}
	for name, b := range files {
		if strings.HasPrefix(name, "blobs/sha256/") && len(name) > len("blobs/sha256/") {
			r.blobs["sha256:"+strings.TrimPrefix(name, "blobs/sha256/")] = b
		}
	}
	r.manifestDigest = idx.Manifests[0].Digest.String()
	r.manifest = r.blobs[r.manifestDigest]
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *testRegistry) serve(w http.ResponseWriter, req *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	u, p, ok := req.BasicAuth()
	if !ok || u != r.user || p != r.pass {
		w.Header().Set("WWW-Authenticate", `Basic realm="strom-test"`)
		http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
		return
	}
	r.mu.Lock()
	r.authorizedCalls++
	r.mu.Unlock()
	path := req.URL.Path
	switch {
	case path == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.Contains(path, "/manifests/"):
		ref := path[strings.LastIndex(path, "/")+1:]
		if ref != "1" && ref != r.manifestDigest {
			http.Error(w, `{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		r.mu.Lock()
		r.manifestGets++
		r.mu.Unlock()
		r.write(w, req, ocispec.MediaTypeImageManifest, r.manifestDigest, r.manifest)
	case strings.Contains(path, "/blobs/"):
		d := path[strings.LastIndex(path, "/")+1:]
		b, ok := r.blobs[d]
		if !ok {
			http.Error(w, `{"errors":[{"code":"BLOB_UNKNOWN"}]}`, http.StatusNotFound)
			return
		}
		r.mu.Lock()
		if req.Method == http.MethodGet {
			r.blobGets++
		}
		r.mu.Unlock()
		r.write(w, req, "application/octet-stream", d, b)
	default:
		http.NotFound(w, req)
	}
}

func (r *testRegistry) write(w http.ResponseWriter, req *http.Request, mediaType, digest string, b []byte) {
	w.Header().Set("Content-Type", mediaType)
	w.Header().Set("Docker-Content-Digest", digest)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}

func (r *testRegistry) counts() (manifests, authorized int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.manifestGets, r.authorizedCalls
}

func (r *testRegistry) blobCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.blobGets
}

func TestPullFromLoopbackRegistryWithAuth(t *testing.T) {
	e := newEnv(t)
	var bb string
	for _, a := range testImages(t) {
		if a.Name == images.Busybox {
			bb = a.Path
		}
	}
	reg := newTestRegistry(t, bb, "puller", "hunter2")
	host := strings.TrimPrefix(reg.URL, "http://")
	ref := host + "/mirror/busybox:1"
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// Drop the imported copy so that the pull has to fetch every blob.
	if err := e.rt.RemoveImage(ctx, images.Busybox); err != nil {
		t.Fatalf("RemoveImage: %v", err)
	}

	// Wrong credentials: a classified pull error.
	if _, err := e.rt.EnsureImage(ctx, ref, PullIfNotPresent, map[string]RegistryAuth{host: {Username: "puller", Password: "wrong"}}); !errors.Is(err, ErrImagePull) {
		t.Fatalf("pull with wrong credentials: %v, want ErrImagePull", err)
	}
	// Credentials from an imagePullSecret.
	secret := `{"auths":{"http://` + host + `":{"username":"puller","password":"hunter2"}}}`
	auth, err := ParseDockerConfig([]byte(secret))
	if err != nil {
		t.Fatalf("ParseDockerConfig: %v", err)
	}
	start := time.Now()
	img, err := e.rt.EnsureImage(ctx, ref, PullIfNotPresent, auth)
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	t.Logf("pull of %s (%d bytes) from loopback took %v", ref, img.Size, time.Since(start))
	if img.Name != ref || img.Digest != reg.manifestDigest {
		t.Errorf("pulled %+v, want digest %s", img, reg.manifestDigest)
	}
	m1, authorized := reg.counts()
	if m1 == 0 || authorized == 0 || reg.blobCount() < 2 {
		t.Fatalf("registry saw %d manifest requests, %d blob downloads, %d authorized calls", m1, reg.blobCount(), authorized)
	}
	// IfNotPresent does not go back to the registry; Always does.
	if _, err := e.rt.EnsureImage(ctx, ref, PullIfNotPresent, auth); err != nil {
		t.Fatalf("IfNotPresent: %v", err)
	}
	if m, _ := reg.counts(); m != m1 {
		t.Errorf("IfNotPresent of a present image asked the registry (%d -> %d manifest requests)", m1, m)
	}
	if _, err := e.rt.EnsureImage(ctx, ref, PullAlways, auth); err != nil {
		t.Fatalf("Always: %v", err)
	}
	if m, _ := reg.counts(); m == m1 {
		t.Errorf("Always did not ask the registry")
	}
	// The pulled image is unpacked and runs.
	sb := e.sandbox(t, "uid-pulled", "pulled")
	id := e.run(t, sb, ContainerConfig{Name: "c", Image: ref, Command: []string{"echo", "pulled ok"}})
	st, err := e.rt.WaitContainer(ctx, id)
	if err != nil || st.ExitCode != 0 {
		t.Fatalf("container from pulled image: %+v %v", st, err)
	}
	waitFor(t, 5*time.Second, func() error {
		if got := readFile(t, st.LogPath); got != "pulled ok" {
			return fmt.Errorf("log = %q", got)
		}
		return nil
	})
}
