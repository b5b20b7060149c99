package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-iptables/iptables"
	"github.com/vishvananda/netns"
)

// ExecOptions configure an ExecRunner.
type ExecOptions struct {
	// Backend selects the binaries: "" uses iptables / iptables-restore /
	// iptables-save (whatever the system's alternative points to);
	// "nft" and "legacy" pick iptables-nft-* or iptables-legacy-*.
	Backend string
	// NetnsPath, when set (e.g. /var/run/netns/node1), runs every command
	// and sysctl write inside that network namespace. The real agent
	// leaves it empty and works on the host.
	NetnsPath string
	// WaitSeconds is passed as -w to wait for the xtables lock
	// (default 5).
	WaitSeconds int
}

// ExecRunner is the real Runner: go-iptables for the fixed hooks,
// iptables-restore and iptables-save over os/exec for syncs.
type ExecRunner struct {
	opts                ExecOptions
	restoreBin, saveBin string
	ipt                 *iptables.IPTables
	// restoreCPU is the user+system CPU time of all iptables-restore runs.
	restoreCPU atomic.Int64
}

// RestoreCPU returns the CPU time iptables-restore has used so far, a
// measure of its cost that, unlike wall time, does not grow when other
// processes compete for the CPU.
func (r *ExecRunner) RestoreCPU() time.Duration { return time.Duration(r.restoreCPU.Load()) }

// NewExecRunner finds the iptables binaries for the backend.
func NewExecRunner(opts ExecOptions) (*ExecRunner, error) {
	if opts.WaitSeconds == 0 {
		opts.WaitSeconds = 5
	}
	suffix := ""
	switch opts.Backend {
	case "":
	case "nft", "legacy":
		suffix = "-" + opts.Backend
	default:
		return nil, fmt.Errorf("unknown iptables backend %q", opts.Backend)
	}
	r := &ExecRunner{opts: opts}
	var err error
	if r.restoreBin, err = exec.LookPath("iptables" + suffix + "-restore"); err != nil {
		return nil, fmt.Errorf("finding iptables-restore: %w", err)
	}
	if r.saveBin, err = exec.LookPath("iptables" + suffix + "-save"); err != nil {
		return nil, fmt.Errorf("finding iptables-save: %w", err)
	}
	if r.ipt, err = iptables.New(iptables.Path("iptables"+suffix), iptables.Timeout(opts.WaitSeconds)); err != nil {
		return nil, fmt.Errorf("setting up go-iptables: %w", err)
	}
	return r, nil
}

// Restore implements Runner: iptables-restore --noflush, data on stdin.
func (r *ExecRunner) Restore(table string, data []byte) error {
	return r.inNetns(func() error {
		cmd := exec.Command(r.restoreBin, "--noflush", "-w", fmt.Sprint(r.opts.WaitSeconds))
		cmd.Stdin = bytes.NewReader(data)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		if ps := cmd.ProcessState; ps != nil {
			r.restoreCPU.Add(int64(ps.UserTime() + ps.SystemTime()))
		}
		if err != nil {
			return fmt.Errorf("%s for table %s (%d bytes): %w: %s",
				filepath.Base(r.restoreBin), table, len(data), err, strings.TrimSpace(stderr.String()))
		}
		return nil
	})
}

// Save implements Runner.
func (r *ExecRunner) Save(table string) ([]byte, error) {
	var out []byte
	err := r.inNetns(func() error {
		cmd := exec.Command(r.saveBin, "-t", table)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		var err error
		if out, err = cmd.Output(); err != nil {
			return fmt.Errorf("%s -t %s: %w: %s", filepath.Base(r.saveBin), table, err, strings.TrimSpace(stderr.String()))
		}
		return nil
	})
	return out, err
}

// EnsureChain implements Runner.
func (r *ExecRunner) EnsureChain(table, chain string) error {
	return r.inNetns(func() error {
		exists, err := r.ipt.ChainExists(table, chain)
		if err != nil {
			return fmt.Errorf("checking chain %s/%s: %w", table, chain, err)
		}
		if exists {
			return nil
		}
		if err := r.ipt.NewChain(table, chain); err != nil {
			return fmt.Errorf("creating chain %s/%s: %w", table, chain, err)
		}
		return nil
	})
}

// EnsureRule implements Runner: check, then insert at position 1.
func (r *ExecRunner) EnsureRule(table, chain string, rule ...string) (bool, error) {
	var existed bool
	err := r.inNetns(func() error {
		var err error
		if existed, err = r.ipt.Exists(table, chain, rule...); err != nil {
			return fmt.Errorf("checking %v in %s/%s: %w", rule, table, chain, err)
		}
		if existed {
			return nil
		}
		if err := r.ipt.Insert(table, chain, 1, rule...); err != nil {
			return fmt.Errorf("adding %v in %s/%s: %w", rule, table, chain, err)
		}
		return nil
	})
	return existed, err
}

// SetSysctl implements Runner by writing under /proc/sys.
func (r *ExecRunner) SetSysctl(name, value string) error {
	return r.inNetns(func() error {
		p := filepath.Join("/proc/sys", filepath.Clean("/"+name))
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			return fmt.Errorf("setting sysctl %s=%s: %w", name, value, err)
		}
		return nil
	})
}

// inNetns runs f on a thread switched into the configured network
// namespace. Child processes started by f inherit the thread's namespace.
func (r *ExecRunner) inNetns(f func() error) error { return runInNetns(r.opts.NetnsPath, f) }

// runInNetns runs f on a thread switched into the network namespace at
// path (f runs as it is when path is empty).
func runInNetns(path string, f func() error) error {
	if path == "" {
		return f()
	}
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("getting current netns: %w", err)
	}
	defer orig.Close()
	target, err := netns.GetFromPath(path)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("opening netns %s: %w", path, err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("entering netns %s: %w", path, err)
	}
	ferr := f()
	if err := netns.Set(orig); err != nil {
		// The thread is stuck in the wrong namespace: keep it locked so
		// no other goroutine runs on it; it dies with this goroutine.
		return errors.Join(ferr, fmt.Errorf("leaving netns %s: %w", path, err))
	}
	runtime.UnlockOSThread()
	return ferr
}
