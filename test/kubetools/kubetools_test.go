package kubetools

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func run(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Keep the tools away from the user's kubeconfig and helm state.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HOME="+home, "KUBECONFIG="+filepath.Join(home, "kubeconfig"))
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s%s", bin, strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

func TestRepoRoot(t *testing.T) {
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if !isRootModule(filepath.Join(root, "go.mod")) {
		t.Fatalf("RepoRoot() = %s, whose go.mod is not module %s", root, rootModule)
	}
	if _, err := os.Stat(filepath.Join(root, "scripts", "build-test-tools.sh")); err != nil {
		t.Fatalf("RepoRoot() = %s: %v", root, err)
	}
}

func TestKubectlVersion(t *testing.T) {
	kubectl := Kubectl(t)
	if !filepath.IsAbs(kubectl) {
		t.Fatalf("Kubectl() = %q, not absolute", kubectl)
	}
	out := run(t, kubectl, "version", "--client", "-o", "json")
	var v struct {
		ClientVersion struct {
			Major      string `json:"major"`
			Minor      string `json:"minor"`
			GitVersion string `json:"gitVersion"`
		} `json:"clientVersion"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("kubectl version --client -o json: %v\n%s", err, out)
	}
	if got := v.ClientVersion.GitVersion; got != "v1.37.2" {
		t.Fatalf("kubectl gitVersion = %q, want v1.37.2\n%s", got, out)
	}
	if v.ClientVersion.Major != "1" || v.ClientVersion.Minor != "37" {
		t.Fatalf("kubectl major.minor = %q.%q, want 1.37", v.ClientVersion.Major, v.ClientVersion.Minor)
	}
}

func TestHelmVersion(t *testing.T) {
	helm := Helm(t)
	if !filepath.IsAbs(helm) {
		t.Fatalf("Helm() = %q, not absolute", helm)
	}
	out := run(t, helm, "version", "--short")
	if !strings.HasPrefix(strings.TrimSpace(out), "v4.3.2") {
		t.Fatalf("helm version --short = %q, want it to start with v4.3.2", out)
	}
}

func TestEnvOverride(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "kubectl")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("STROM_KUBECTL", bin)
	if got := Kubectl(t); got != bin {
		t.Fatalf("Kubectl() with $STROM_KUBECTL=%s = %s", bin, got)
	}
}
