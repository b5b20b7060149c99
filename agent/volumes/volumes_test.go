package volumes

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strom-project/strom/agent/runtime"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
)

type objects struct {
	mu  sync.Mutex
	cms map[string]*corev1.ConfigMap
	ss  map[string]*corev1.Secret
}

func (o *objects) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if cm, ok := o.cms[ns+"/"+name]; ok {
		return cm, nil
	}
	return nil, fmt.Errorf("configmap %s: %w", name, ErrObjectNotFound)
}

func (o *objects) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if s, ok := o.ss[ns+"/"+name]; ok {
		return s, nil
	}
	return nil, fmt.Errorf("secret %s: %w", name, ErrObjectNotFound)
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("reading %s: %v", p, err)
	}
	return string(b)
}

func TestWriteAtomicSwapsWholeSets(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	wrote, err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "sub/b": {Data: []byte("2"), Mode: 0o600}}, now)
	if err != nil || !wrote {
		t.Fatalf("first write: %v %v", wrote, err)
	}
	if read(t, filepath.Join(dir, "a")) != "1" || read(t, filepath.Join(dir, "sub/b")) != "2" {
		t.Fatalf("contents wrong")
	}
	if fi, _ := os.Stat(filepath.Join(dir, "sub/b")); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", fi.Mode())
	}
	if l, err := os.Readlink(filepath.Join(dir, "a")); err != nil || l != "..data/a" {
		t.Errorf("a is not a link through ..data: %q %v", l, err)
	}
	// Same payload: nothing is rewritten.
	first, _ := os.Readlink(filepath.Join(dir, "..data"))
	if wrote, err := WriteAtomic(dir, map[string]File{"a": {Data: []byte("1"), Mode: 0o644}, "sub/b": {Data: []byte("2"), Mode: 0o600}}, now); err != nil || wrote {
		t.Fatalf("unchanged write: %v %v", wrote, err)
	}
	// New payload: a removed, c added, old payload gone.
	if _, err := WriteAtomic(dir, map[string]File{"c": {Data: []byte("3"), Mode: 0o644}}, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Errorf("a still there: %v", err)
	}
	if read(t, filepath.Join(dir, "c")) != "3" {
		t.Errorf("c wrong")
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Errorf("old payload dir %s left: %v", first, err)
	}
	if _, err := WriteAtomic(dir, map[string]File{"../escape": {Data: []byte("x")}}, now); err == nil {
		t.Errorf("path escaping the volume accepted")
	}
}

// TestWriteAtomicReadersNeverSeeHalf reads two files that are always written
// with the same content while the payload is swapped; a reader must never
// see them disagree.
func TestWriteAtomicReadersNeverSeeHalf(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	write := func(v string) {
		if _, err := WriteAtomic(dir, map[string]File{"x": {Data: []byte(v), Mode: 0o644}, "y": {Data: []byte(v), Mode: 0o644}}, now); err != nil {
			t.Error(err)
		}
	}
	write("0")
	var stop atomic.Bool
	var bad atomic.Int32
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			// Resolve ..data once, as a reader holding the directory would.
			target, err := os.Readlink(filepath.Join(dir, "..data"))
			if err != nil {
				bad.Add(1)
				continue
			}
			x, err1 := os.ReadFile(filepath.Join(dir, target, "x"))
			y, err2 := os.ReadFile(filepath.Join(dir, target, "y"))
			if err1 == nil && err2 == nil && string(x) != string(y) {
				bad.Add(1)
			}
		}
	}()
	for i := 1; i < 200; i++ {
		write(fmt.Sprint(i))
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() != 0 {
		t.Fatalf("%d inconsistent reads", bad.Load())
	}
}

func pod(vols ...corev1.Volume) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "uid-1", Labels: map[string]string{"b": "2", "a": "1"}},
		Spec:       corev1.PodSpec{Volumes: vols},
	}
}

func TestSetupProjectedVolumes(t *testing.T) {
	o := &objects{
		cms: map[string]*corev1.ConfigMap{"ns/c": {Data: map[string]string{"k1": "v1", "k2": "v2"}}},
		ss:  map[string]*corev1.Secret{"ns/s": {Data: map[string][]byte{"pw": []byte("secret")}, StringData: map[string]string{"user": "me"}}},
	}
	m := New(t.TempDir(), o, nil, clock.RealClock{})
	mode := int32(0o400)
	p := pod(
		corev1.Volume{Name: "all", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}},
		corev1.Volume{Name: "items", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"},
			Items: []corev1.KeyToPath{{Key: "k2", Path: "dir/renamed", Mode: &mode}}}}},
		corev1.Volume{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
		corev1.Volume{Name: "down", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{Items: []corev1.DownwardAPIVolumeFile{
			{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
			{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
		}}}},
		corev1.Volume{Name: "missing", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "nope"}}}},
		corev1.Volume{Name: "missing-secret", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "nope"}}},
		corev1.Volume{Name: "badkey", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"},
			Items: []corev1.KeyToPath{{Key: "absent", Path: "x"}}}}},
	)
	paths, errs := m.Setup(context.Background(), p)
	if read(t, filepath.Join(paths["all"], "k1")) != "v1" || read(t, filepath.Join(paths["all"], "k2")) != "v2" {
		t.Errorf("all keys wrong")
	}
	f := filepath.Join(paths["items"], "dir/renamed")
	if read(t, f) != "v2" {
		t.Errorf("item wrong")
	}
	if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o400 {
		t.Errorf("item mode %v %v", fi.Mode(), err)
	}
	if _, err := os.Lstat(filepath.Join(paths["items"], "k1")); !os.IsNotExist(err) {
		t.Errorf("unlisted key written")
	}
	if read(t, filepath.Join(paths["sec"], "pw")) != "secret" || read(t, filepath.Join(paths["sec"], "user")) != "me" {
		t.Errorf("secret wrong")
	}
	if got := read(t, filepath.Join(paths["down"], "labels")); got != "a=\"1\"\nb=\"2\"" {
		t.Errorf("labels file = %q", got)
	}
	want := map[string]string{
		"missing":        `configmap "nope" not found`,
		"missing-secret": `secret "nope" not found`,
		"badkey":         `couldn't find key absent in ConfigMap ns/c`,
	}
	if len(errs) != len(want) {
		t.Errorf("errors = %v", errs)
	}
	for name, msg := range want {
		var ce *ConfigError
		if !errors.As(errs[name], &ce) || ce.Msg != msg {
			t.Errorf("error of %s = %v, want ConfigError %q", name, errs[name], msg)
		}
	}
	if err := m.Teardown("uid-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.PodDir("uid-1")); !os.IsNotExist(err) {
		t.Errorf("pod dir left")
	}
}

func TestHostPathTypes(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	typ := func(v corev1.HostPathType) *corev1.HostPathType { return &v }
	tests := []struct {
		path  string
		typ   *corev1.HostPathType
		ok    bool
		check func() bool
	}{
		{base, nil, true, nil},
		{filepath.Join(base, "missing"), nil, true, nil},
		{base, typ(corev1.HostPathDirectory), true, nil},
		{file, typ(corev1.HostPathDirectory), false, nil},
		{filepath.Join(base, "missing"), typ(corev1.HostPathDirectory), false, nil},
		{filepath.Join(base, "new/dir"), typ(corev1.HostPathDirectoryOrCreate), true, func() bool {
			fi, err := os.Stat(filepath.Join(base, "new/dir"))
			return err == nil && fi.IsDir()
		}},
		{file, typ(corev1.HostPathFile), true, nil},
		{base, typ(corev1.HostPathFile), false, nil},
		{filepath.Join(base, "new/file"), typ(corev1.HostPathFileOrCreate), true, func() bool {
			fi, err := os.Stat(filepath.Join(base, "new/file"))
			return err == nil && fi.Mode().IsRegular()
		}},
		{file, typ(corev1.HostPathSocket), false, nil},
		{"/dev/null", typ(corev1.HostPathCharDev), true, nil},
		{file, typ(corev1.HostPathBlockDev), false, nil},
		{"relative", nil, false, nil},
	}
	for _, tc := range tests {
		err := checkHostPath(&corev1.HostPathVolumeSource{Path: tc.path, Type: tc.typ})
		if (err == nil) != tc.ok {
			t.Errorf("%s %v: err = %v, want ok=%v", tc.path, tc.typ, err, tc.ok)
		}
		if tc.check != nil && !tc.check() {
			t.Errorf("%s %v: not created", tc.path, *tc.typ)
		}
	}
}

func TestContainerMounts(t *testing.T) {
	p := pod(
		corev1.Volume{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}}},
		corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	)
	data := t.TempDir()
	paths := Paths{"cfg": "/v/cfg", "data": data}
	c := &corev1.Container{Name: "c", VolumeMounts: []corev1.VolumeMount{
		{Name: "cfg", MountPath: "/etc/cfg"},
		{Name: "data", MountPath: "/data"},
		{Name: "data", MountPath: "/sub", SubPath: "x/y", ReadOnly: true},
	}}
	got, err := ContainerMounts(p, c, paths)
	if err != nil {
		t.Fatal(err)
	}
	want := []runtime.Mount{
		{HostPath: "/v/cfg", ContainerPath: "/etc/cfg", ReadOnly: true},
		{HostPath: data, ContainerPath: "/data"},
		{HostPath: filepath.Join(data, "x/y"), ContainerPath: "/sub", ReadOnly: true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mounts = %v, want %v", got, want)
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "ghost", MountPath: "/x"}}
	if _, err := ContainerMounts(p, c, paths); err == nil || !strings.Contains(err.Error(), "ghost") {
		t.Errorf("unknown volume: %v", err)
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/x", SubPath: "../../etc"}}
	if _, err := ContainerMounts(p, c, paths); err == nil {
		t.Errorf("escaping subPath accepted")
	}
}

// TestMemoryEmptyDir mounts a tmpfs (root only) and checks Teardown
// unmounts it.
func TestMemoryEmptyDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatalf("this test mounts tmpfs and needs root")
	}
	m := New(t.TempDir(), &objects{}, nil, nil)
	p := pod(corev1.Volume{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
	paths, errs := m.Setup(context.Background(), p)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	t.Cleanup(func() { _ = m.Teardown("uid-1") })
	if ok, err := isMountPoint(paths["mem"]); !ok || err != nil {
		t.Fatalf("tmpfs not mounted: %v", err)
	}
	// A second Setup does not stack another mount.
	if _, errs := m.Setup(context.Background(), p); len(errs) > 0 {
		t.Fatal(errs)
	}
	if mps, _ := mountsUnder(m.PodDir("uid-1")); len(mps) != 1 {
		t.Errorf("mounts = %v", mps)
	}
	if err := m.Teardown("uid-1"); err != nil {
		t.Fatal(err)
	}
	if mps, _ := mountsUnder(m.PodDir("uid-1")); len(mps) != 0 {
		t.Errorf("mounts left: %v", mps)
	}
}

func TestUnescape(t *testing.T) {
	if got := unescape(`/a\040b\011c`); got != "/a b\tc" {
		t.Errorf("unescape = %q", got)
	}
	if got := unescape(`/tail\04`); got != `/tail\04` {
		t.Errorf("short escape = %q", got)
	}
}
