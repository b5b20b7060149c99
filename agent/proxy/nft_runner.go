package proxy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// NFTRunner is the seam between the nftables mode and nft. ExecNFT is
// the real one.
type NFTRunner interface {
	// Apply runs an nft script as one atomic transaction.
	Apply(script []byte) error
	// DeleteTable removes the proxy's table; no error when it is absent.
	DeleteTable() error
	// SetSysctl writes a sysctl such as "net/ipv4/conf/all/route_localnet".
	SetSysctl(name, value string) error
}

// ExecNFT runs the nft binary (`nft -f -`), in a network namespace when
// NetnsPath is set.
type ExecNFT struct {
	bin       string
	netnsPath string
	cpu       atomic.Int64
}

// NewExecNFT finds nft. netnsPath may be empty (the host).
func NewExecNFT(netnsPath string) (*ExecNFT, error) {
	bin, err := exec.LookPath("nft")
	if err != nil {
		return nil, fmt.Errorf("the nftables proxy mode needs nft (Debian package nftables): %w", err)
	}
	return &ExecNFT{bin: bin, netnsPath: netnsPath}, nil
}

// RestoreCPU returns the CPU time nft has used so far (user + system),
// as ExecRunner reports it for iptables-restore.
func (r *ExecNFT) RestoreCPU() time.Duration { return time.Duration(r.cpu.Load()) }

// Apply implements NFTRunner.
func (r *ExecNFT) Apply(script []byte) error {
	_, err := r.run(script, "-f", "-")
	if err != nil {
		return fmt.Errorf("nft transaction (%s): %w", nftDescribe(script), err)
	}
	return nil
}

// DeleteTable implements NFTRunner.
func (r *ExecNFT) DeleteTable() error {
	// "add" first makes the delete succeed whether or not the table exists.
	_, err := r.run([]byte("add table ip "+NFTTable+"\ndelete table ip "+NFTTable+"\n"), "-f", "-")
	if err != nil {
		return fmt.Errorf("deleting nftables table ip %s: %w", NFTTable, err)
	}
	return nil
}

// List returns `nft list table ip strom` output and whether the table
// exists; tests and debugging use it.
func (r *ExecNFT) List() ([]byte, bool, error) {
	out, err := r.run(nil, "list", "table", "ip", NFTTable)
	if err != nil {
		if strings.Contains(err.Error(), "No such file or directory") {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("listing table ip %s: %w", NFTTable, err)
	}
	return out, true, nil
}

// SetSysctl implements NFTRunner.
func (r *ExecNFT) SetSysctl(name, value string) error {
	return runInNetns(r.netnsPath, func() error {
		p := filepath.Join("/proc/sys", filepath.Clean("/"+name))
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			return fmt.Errorf("setting sysctl %s=%s: %w", name, value, err)
		}
		return nil
	})
}

func (r *ExecNFT) run(stdin []byte, args ...string) ([]byte, error) {
	var out []byte
	err := runInNetns(r.netnsPath, func() error {
		cmd := exec.Command(r.bin, args...)
		if stdin != nil {
			cmd.Stdin = bytes.NewReader(stdin)
		}
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if ps := cmd.ProcessState; ps != nil {
			r.cpu.Add(int64(ps.UserTime() + ps.SystemTime()))
		}
		out = stdout.Bytes()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if len(msg) > 2000 {
				msg = msg[:2000] + "..."
			}
			return errors.New(err.Error() + ": " + msg)
		}
		return nil
	})
	return out, err
}
