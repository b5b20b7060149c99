package runtime

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCopyLogsKeepsBothStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "0.log")
	if err := os.WriteFile(path, []byte("earlier run\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	outR, outW := io.Pipe()
	errR, errW := io.Pipe()
	readied := false
	done := make(chan error, 1)
	go func() {
		done <- copyLogs(path, outR, errR, func() error { readied = true; return nil })
	}()
	// stdout ends first; stderr still has output to deliver.
	if _, err := outW.Write([]byte("to stdout\n")); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	if _, err := errW.Write([]byte("to stderr after stdout closed\n")); err != nil {
		t.Fatal(err)
	}
	errW.Close()
	if err := <-done; err != nil {
		t.Fatalf("copyLogs: %v", err)
	}
	if !readied {
		t.Errorf("ready was not signalled")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{"earlier run\n", "to stdout\n", "to stderr after stdout closed\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q: %q", want, got)
		}
	}
	if !strings.HasPrefix(got, "earlier run\n") {
		t.Errorf("log was not appended to: %q", got)
	}
}

func TestCopyLogsReportsUnwritableFile(t *testing.T) {
	readied := false
	err := copyLogs(filepath.Join(t.TempDir(), "missing-dir", "0.log"), strings.NewReader(""), strings.NewReader(""), func() error { readied = true; return nil })
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("copyLogs into a missing dir: %v", err)
	}
	if !readied {
		t.Errorf("ready must be signalled even on failure, or the shim waits")
	}
}

func TestIsLogDriverInvocation(t *testing.T) {
	if !IsLogDriverInvocation([]string{"/bin/strom", LogDriverArg, "/x.log"}) {
		t.Errorf("driver invocation not recognised")
	}
	if IsLogDriverInvocation([]string{"/bin/strom", "agent"}) || IsLogDriverInvocation([]string{"/bin/strom", LogDriverArg}) {
		t.Errorf("other invocations recognised as the driver")
	}
}
