package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"sync"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
)

// Exec runs cfg.Cmd in the running container and returns its exit code.
// Output is copied to cfg.Stdout/Stderr until the process exits; cfg.Stdin,
// when set, is copied in and closed at EOF. Cancelling ctx kills the process.
func (c *Containerd) Exec(ctx context.Context, id string, cfg ExecConfig) (int, error) {
	if len(cfg.Cmd) == 0 {
		return -1, fmt.Errorf("exec in %s: empty command", id)
	}
	ctx = c.ns(ctx)
	ctr, err := c.loadContainer(ctx, id)
	if err != nil {
		return -1, err
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return -1, fmt.Errorf("exec in %s: %w", id, ErrNotRunning)
	}
	if err != nil {
		return -1, fmt.Errorf("loading task of %s: %w", id, err)
	}
	spec, err := ctr.Spec(ctx)
	if err != nil {
		return -1, fmt.Errorf("reading spec of %s: %w", id, err)
	}
	pspec := *spec.Process
	pspec.Args = cfg.Cmd
	pspec.Env = append(append([]string{}, spec.Process.Env...), cfg.Env...)
	pspec.Terminal = cfg.TTY

	execID, err := randomID("exec-")
	if err != nil {
		return -1, err
	}
	var stdin io.Reader
	var closeStdin func()
	if cfg.Stdin != nil {
		done := make(chan struct{})
		stdin = &eofNotifier{r: cfg.Stdin, done: done}
		closeStdin = func() { <-done }
	}
	stdout, stderr := outputs(cfg.Stdout, cfg.Stderr)
	opts := []cio.Opt{cio.WithStreams(stdin, stdout, stderr), cio.WithFIFODir(c.cfg.FIFODir)}
	if cfg.TTY {
		opts = append(opts, cio.WithTerminal)
	}
	proc, err := task.Exec(ctx, execID, &pspec, cio.NewCreator(opts...))
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", id, err)
	}
	defer func() {
		// Use a fresh context: the caller's may be cancelled.
		_, _ = proc.Delete(c.ns(context.Background()), containerd.WithProcessKill)
	}()
	exited, err := proc.Wait(ctx)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: waiting: %w", id, err)
	}
	if err := proc.Start(ctx); err != nil {
		return -1, fmt.Errorf("exec in %s: starting: %w", id, err)
	}
	if cfg.TTY && cfg.Resize != nil {
		stop := make(chan struct{})
		defer close(stop)
		go resizeTerminal(ctx, proc, cfg.Resize, stop)
	}
	if closeStdin != nil {
		go func() {
			closeStdin()
			_ = proc.CloseIO(ctx, containerd.WithStdinCloser)
		}()
	}
	select {
	case st := <-exited:
		proc.IO().Wait() // let the output copies drain
		code, _, err := st.Result()
		if err != nil {
			return -1, fmt.Errorf("exec in %s: %w", id, err)
		}
		return int(code), nil
	case <-ctx.Done():
		return -1, fmt.Errorf("exec in %s: %w", id, ctx.Err())
	}
}

// resizeTerminal applies the terminal sizes from sizes to proc's console
// until sizes is closed or stop is.
func resizeTerminal(ctx context.Context, proc containerd.Process, sizes <-chan TerminalSize, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case sz, ok := <-sizes:
			if !ok {
				return
			}
			// A failed resize leaves the old size: nothing to report.
			_ = proc.Resize(ctx, uint32(sz.Width), uint32(sz.Height))
		}
	}
}

// eofNotifier closes done when the reader reaches EOF or fails.
type eofNotifier struct {
	r      io.Reader
	done   chan struct{}
	closed bool
}

func (e *eofNotifier) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !e.closed {
		e.closed = true
		close(e.done)
	}
	return n, err
}

// outputs prepares the writers the output copies write to. Each stream is
// copied by its own goroutine, so when both go to the same writer they share
// a lock; the wrapper also hides io.ReaderFrom (bytes.Buffer.ReadFrom from
// two goroutines loses data even when one of them reads nothing).
func outputs(stdout, stderr io.Writer) (io.Writer, io.Writer) {
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	if stdout == stderr {
		w := &lockedWriter{w: stdout}
		return w, w
	}
	return &lockedWriter{w: stdout}, &lockedWriter{w: stderr}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func randomID(prefix string) (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating id: %w", err)
	}
	return prefix + hex.EncodeToString(b), nil
}
