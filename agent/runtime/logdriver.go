package runtime

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/containerd/containerd/runtime/v2/logging"
)

// LogDriverArg is the first argument the containerd shim passes to the log
// driver binary (Config.LogDriver); the second is the log file path.
const LogDriverArg = "strom-log-driver"

// IsLogDriverInvocation tells whether args (os.Args) are a log driver run;
// a binary used as Config.LogDriver checks it first thing in main and then
// calls RunLogDriver(args[2]).
func IsLogDriverInvocation(args []string) bool {
	return len(args) == 3 && args[1] == LogDriverArg
}

// RunLogDriver is the main of the log driver process the shim starts for
// every container: it appends the container's stdout (fd 3) and stderr
// (fd 4) to path until both end, then exits. It never returns.
//
// The driver is a child of the shim, not of the agent, so logs keep flowing
// while the agent restarts. It exists because the shim's own file logging
// (cio.LogFile) closes the shared file when stdout ends and can drop the
// last stderr bytes of a process that exits right after writing them.
func RunLogDriver(path string) {
	logging.Run(func(ctx context.Context, cfg *logging.Config, ready func() error) error {
		return copyLogs(path, cfg.Stdout, cfg.Stderr, ready)
	})
}

// copyLogs appends both streams to the file at path until both reach EOF.
// It ignores cancellation: after SIGTERM the shim has closed its ends, so
// the streams end once the buffered output is drained.
func copyLogs(path string, stdout, stderr io.Reader, ready func() error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		_ = ready()
		return fmt.Errorf("opening log file %s: %w", path, err)
	}
	defer f.Close()
	if err := ready(); err != nil {
		return fmt.Errorf("signalling readiness: %w", err)
	}
	w := stampedLogFile(f, path)
	if w.times != nil {
		defer w.times.Close()
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, r := range []io.Reader{stdout, stderr} {
		if r == nil {
			continue
		}
		wg.Add(1)
		go func(r io.Reader) {
			defer wg.Done()
			if _, err := io.Copy(w, r); err != nil {
				errs <- err
			}
		}(r)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		return fmt.Errorf("copying container output to %s: %w", path, err)
	}
	return nil
}

// stampedLogFile writes to the open log f and keeps its times beside it
// (logtimes.go); without a times file the log is written all the same.
func stampedLogFile(f *os.File, path string) *stampedLog {
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	times, err := os.OpenFile(LogTimesPath(path), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		times = nil
	}
	return newStampedLog(f, size, times)
}
