package ctrtest

import (
	"context"
	"os"
	"testing"

	"github.com/containerd/containerd/namespaces"
)

func TestStartAnswersAndCleansUp(t *testing.T) {
	var dir string
	t.Run("daemon", func(t *testing.T) {
		c := Start(t)
		dir = c.Dir
		cl := c.Client(t)
		ctx := namespaces.WithNamespace(context.Background(), "ctrtest")
		v, err := cl.Version(ctx)
		if err != nil {
			t.Fatalf("version: %v", err)
		}
		if v.Version == "" {
			t.Fatalf("empty version")
		}
		if _, err := cl.SnapshotService("overlayfs").Stat(ctx, "nothing"); err == nil {
			t.Fatalf("stat of a missing snapshot succeeded")
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("containerd dir %s still exists after cleanup: %v", dir, err)
	}
}

func TestNewNetNS(t *testing.T) {
	var path string
	t.Run("ns", func(t *testing.T) {
		ns := NewNetNS(t)
		path = ns.GetPath()
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("netns path: %v", err)
		}
	})
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("netns %s still exists: %v", path, err)
	}
}
