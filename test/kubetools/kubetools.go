// Package kubetools locates the real kubectl and helm binaries that the
// end-to-end tests drive. scripts/build-test-tools.sh (`make tools`, part of
// `make test`) builds them into test/tools/bin/; $STROM_KUBECTL and
// $STROM_HELM point at other builds. A missing binary fails the test: it is
// never a reason to skip.
//
// It also holds what the tests of Strom's Kubernetes API share as
// client-go drives it: PortForward (kubectl port-forward) and SyncBuffer
// for the output of streams. It imports nothing of Strom's, so any test
// package can use it.
package kubetools

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// rootModule is the module path on the first line of the repository's go.mod.
const rootModule = "github.com/strom-project/strom"

// Kubectl returns the absolute path of the kubectl to use.
func Kubectl(t testing.TB) string {
	t.Helper()
	return find(t, "kubectl", "STROM_KUBECTL")
}

// Helm returns the absolute path of the helm to use.
func Helm(t testing.TB) string {
	t.Helper()
	return find(t, "helm", "STROM_HELM")
}

func find(t testing.TB, name, env string) string {
	t.Helper()
	var path string
	if p := os.Getenv(env); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatalf("kubetools: $%s=%q: %v", env, p, err)
		}
		path = abs
	} else {
		root, err := RepoRoot()
		if err != nil {
			t.Fatalf("kubetools: locating %s: %v", name, err)
		}
		path = filepath.Join(root, "test", "tools", "bin", name)
	}
	if err := checkExecutable(path); err != nil {
		from := "test/tools/bin"
		if os.Getenv(env) != "" {
			from = "$" + env
		}
		t.Fatalf("kubetools: %s (from %s): %v; run `make tools` (scripts/build-test-tools.sh) first", name, from, err)
	}
	return path
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s does not exist", path)
		}
		return err
	}
	if fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", path)
	}
	return nil
}

// RepoRoot walks up from the working directory to the directory whose go.mod
// declares module github.com/strom-project/strom, skipping nested modules
// such as test/tools/kubectl.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if isRootModule(filepath.Join(dir, "go.mod")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod with module %s above the working directory", rootModule)
		}
		dir = parent
	}
}

// isRootModule reports whether the first line of the go.mod at path is
// `module github.com/strom-project/strom`.
func isRootModule(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return false
	}
	fields := strings.Fields(sc.Text())
	return len(fields) == 2 && fields[0] == "module" && strings.Trim(fields[1], `"`) == rootModule
}
