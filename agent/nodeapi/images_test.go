package nodeapi

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/logtest"
)

// tarImages imports an archive as containerd does: it reads entries up
// to tar's end-of-archive marker and stops there, and names what it read.
type tarImages struct{}

func (tarImages) ImportImage(_ context.Context, r io.Reader) ([]string, error) {
	tr := tar.NewReader(r)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			if len(names) == 0 {
				return nil, errors.New("ctr: archive holds no image index")
			}
			return names, nil
		}
		if err != nil {
			return nil, fmt.Errorf("ctr: reading the archive: %w", err)
		}
		names = append(names, h.Name)
	}
}
func (tarImages) ListImages(context.Context) ([]runtime.Image, error) { return nil, nil }
func (tarImages) RemoveImage(context.Context, string) error           { return nil }

func archive(t *testing.T, padding int) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := strings.Repeat("x", 3000)
	if err := tw.WriteHeader(&tar.Header{Name: "index.json", Mode: 0o644, Size: int64(len(body))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return append(buf.Bytes(), make([]byte, padding)...)
}

// An archive padded past its end-of-archive marker (GNU tar pads to
// 10 KiB records; here up to 1 MiB, many chunks) imports and reports its
// names; a bad archive reports the node's error, not a lost receiver.
func TestImportImagePaddedArchive(t *testing.T) {
	ns := logtest.StartNATS(t)
	nc, _ := logtest.Connect(t, ns)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := ServeImages(ctx, nc, "n1", tarImages{}, zaptest.NewLogger(t)); err != nil {
		t.Fatal(err)
	}
	for _, padding := range []int{0, 10240 - 3584, 1 << 20} {
		cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
		names, err := api.ImportImage(cctx, nc, "n1", bytes.NewReader(archive(t, padding)))
		ccancel()
		if err != nil || len(names) != 1 || names[0] != "index.json" {
			t.Errorf("padding %d: imported %v, %v; want [index.json]", padding, names, err)
		}
	}
	cctx, ccancel := context.WithTimeout(ctx, 20*time.Second)
	defer ccancel()
	_, err := api.ImportImage(cctx, nc, "n1", bytes.NewReader(append([]byte("not a tar archive at all"), make([]byte, 1<<20)...)))
	if err == nil || !strings.Contains(err.Error(), "ctr: ") {
		t.Fatalf("a bad archive: want the node's error, got %v", err)
	}
}
