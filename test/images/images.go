package images

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// Names of the test images.
const (
	Busybox    = "strom.test/busybox:1"
	HTTPServer = "strom.test/httpserver:1"
)

// BusyboxPath is where Debian's busybox-static package installs the binary.
const BusyboxPath = "/bin/busybox"

// BusyboxApplets are the applets linked into /bin of the busybox image.
var BusyboxApplets = []string{
	"sh", "ash", "ls", "cat", "wget", "sleep", "echo", "nc", "hostname", "env",
	"httpd", "nslookup", "ps", "kill", "mkdir", "rm", "cp", "mv", "touch", "grep",
	"sed", "awk", "head", "tail", "tr", "dd", "id", "ip", "ping", "true", "false",
	"test", "[", "printf", "date", "uname", "wc", "sort", "tee", "chmod", "ln",
	"mount", "df", "du", "find", "xargs", "yes", "seq", "timeout", "vi", "top",
	"ifconfig", "route", "netstat", "which", "whoami", "pwd", "basename", "dirname",
	"stat", "md5sum", "sha256sum", "base64", "expr", "readlink", "realpath",
	"usleep", "pidof", "tty", "stty", "telnet", "traceroute", "arp", "free", "uptime",
}

// Archive is one image archive on disk.
type Archive struct {
	Name string // full image reference
	Path string // tar file
}

// BuildAll writes every test image into dir as <short-name>.tar and returns
// them. It needs /bin/busybox and a Go toolchain (to compile httpserver).
func BuildAll(ctx context.Context, dir string) ([]Archive, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	bb, err := BusyboxFiles()
	if err != nil {
		return nil, err
	}
	hs, err := HTTPServerFiles(ctx)
	if err != nil {
		return nil, err
	}
	specs := []struct {
		name, file string
		files      []File
		cfg        Config
	}{
		{Busybox, "busybox.tar", bb, Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}},
		{HTTPServer, "httpserver.tar", append(hs, bb...), Config{
			Entrypoint: []string{"/httpserver"},
			Env:        []string{"PATH=/bin", "PORT=8080"},
			Ports:      []string{"8080/tcp"},
		}},
	}
	var out []Archive
	for _, s := range specs {
		var buf bytes.Buffer
		if err := WriteArchive(&buf, s.name, s.files, s.cfg); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, s.file)
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			return nil, fmt.Errorf("writing %s: %w", p, err)
		}
		out = append(out, Archive{Name: s.name, Path: p})
	}
	return out, nil
}

// BusyboxFiles returns /bin/busybox and its applet symlinks, plus /tmp and a
// minimal /etc (the runtime bind-mounts hosts, hostname and resolv.conf over
// the files there).
func BusyboxFiles() ([]File, error) {
	data, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s (apt-get install -y busybox-static): %w", BusyboxPath, err)
	}
	files := []File{
		{Path: "/bin/busybox", Mode: 0o755, Data: data},
		{Path: "/tmp", Mode: 0o1777, Dir: true},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/etc/hosts", Mode: 0o644, Data: []byte("127.0.0.1 localhost\n")},
		{Path: "/etc/hostname", Mode: 0o644, Data: []byte("busybox\n")},
		{Path: "/etc/resolv.conf", Mode: 0o644, Data: []byte{}},
		{Path: "/root", Mode: 0o700, Dir: true},
		{Path: "/proc", Mode: 0o555, Dir: true},
		{Path: "/sys", Mode: 0o555, Dir: true},
		{Path: "/dev", Mode: 0o755, Dir: true},
	}
	for _, a := range BusyboxApplets {
		files = append(files, File{Path: "/bin/" + a, Mode: 0o777, Link: "busybox"})
	}
	return files, nil
}

// HTTPServerFiles compiles ./httpserver statically and returns it as
// /httpserver.
func HTTPServerFiles(ctx context.Context) ([]File, error) {
	src, err := sourceDir()
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "strom-httpserver-")
	if err != nil {
		return nil, fmt.Errorf("creating build dir: %w", err)
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "httpserver")
	cmd := exec.CommandContext(ctx, goTool(), "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "./httpserver")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building httpserver: %w: %s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, fmt.Errorf("reading built httpserver: %w", err)
	}
	return []File{{Path: "/httpserver", Mode: 0o755, Data: data}}, nil
}

// sourceDir is the directory of this package's sources.
func sourceDir() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("locating test/images sources")
	}
	return filepath.Dir(file), nil
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
