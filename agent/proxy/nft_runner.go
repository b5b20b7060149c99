package proxy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"sigs.k8s.io/knftables"
)

// NFTRunner is the seam between the nftables mode and the kernel: a
// knftables.Interface for the table "ip strom" plus a sysctl writer.
// ExecNFT is the real one; tests use knftables.NewFake.
type NFTRunner interface {
	knftables.Interface
	// SetSysctl writes a sysctl such as "net/ipv4/conf/all/route_localnet".
	SetSysctl(name, value string) error
}

// ExecNFT is knftables' Interface (it runs the nft binary) for the table
// "ip strom", in a network namespace when NetnsPath is set: every call
// enters the namespace on a locked thread, so the nft process it starts
// is born there.
type ExecNFT struct {
	nft       knftables.Interface
	path      string // the nft binary
	netnsPath string
	cpu       atomic.Int64
}

var _ NFTRunner = (*ExecNFT)(nil)

// NewExecNFT finds nft and checks that it works. netnsPath may be empty
// (the host).
func NewExecNFT(netnsPath string) (*ExecNFT, error) {
	r := &ExecNFT{netnsPath: netnsPath}
	err := runInNetns(netnsPath, func() error {
		var err error
		r.nft, err = knftables.New(knftables.IPv4Family, NFTTable)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("the nftables proxy mode needs nft 1.0.1 or later (Debian package nftables): %w", err)
	}
	if r.path, err = exec.LookPath("nft"); err != nil {
		return nil, fmt.Errorf("the nftables proxy mode needs nft (Debian package nftables): %w", err)
	}
	return r, nil
}

// RestoreCPU returns the CPU time (user + system) of the nft processes
// of transactions so far, as ExecRunner reports it for iptables-restore.
// It is read from the process's reaped-children usage around each Run,
// so a child of another goroutine that ends meanwhile counts too.
func (r *ExecNFT) RestoreCPU() time.Duration { return time.Duration(r.cpu.Load()) }

// in runs f in the runner's network namespace.
func (r *ExecNFT) in(f func() error) error { return runInNetns(r.netnsPath, f) }

// NewTransaction implements knftables.Interface.
func (r *ExecNFT) NewTransaction() *knftables.Transaction { return r.nft.NewTransaction() }

// Run implements knftables.Interface: one `nft -f -` for the whole
// transaction, which the kernel applies atomically. The script is
// knftables' text of the transaction with runs of element commands on
// one set batched (batchElements): the same operations in the same
// order, but nft parses a command per thousand elements instead of one
// per element, which at 10,000 services is a third of a full sync.
func (r *ExecNFT) Run(ctx context.Context, tx *knftables.Transaction) error {
	script, err := transactionScript(tx)
	if err != nil {
		return err
	}
	before := childrenCPU()
	err = r.in(func() error {
		cmd := exec.CommandContext(ctx, r.path, "-f", "-")
		cmd.Stdin = strings.NewReader(script)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
		}
		return nil
	})
	r.cpu.Add(int64(childrenCPU() - before))
	if err != nil {
		return fmt.Errorf("nft transaction (%d operations): %w", tx.NumOperations(), err)
	}
	return nil
}

// transactionScript is tx's nft script with element commands batched. A
// transaction that knftables refused while it was built (an invalid
// object; the operations after it were dropped) is an error: knftables
// reports it only as a trailing "# ERROR:" comment in the text, which nft
// would ignore and run the truncated rest.
func transactionScript(tx *knftables.Transaction) (string, error) {
	text := tx.String()
	if i := strings.LastIndex(text, nftTxError); i >= 0 && (i == 0 || text[i-1] == '\n') {
		return "", fmt.Errorf("nft transaction (%d operations) not run: %s", tx.NumOperations(), text[i+len(nftTxError):])
	}
	return batchElements(text, nftBatch), nil
}

// nftTxError starts the comment knftables' Transaction.String ends with
// when building the transaction failed.
const nftTxError = "# ERROR: "

// nftBatch bounds the elements per batched command, keeping single
// netlink messages small.
const nftBatch = 1000

// batchElements joins runs of consecutive one-element commands on the
// same set or map ("add element ip strom backends-tcp { K : V }") into
// commands of up to max elements ("add element ip strom backends-tcp
// { K1 : V1, K2 : V2 }"). Only add and delete of plain elements are
// joined; an element with a comment or any brace, comma or quote in it,
// and every other line, is kept as it is and ends the run.
func batchElements(script string, max int) string {
	var b strings.Builder
	b.Grow(len(script))
	head := "" // the command of the run, up to " { "
	var run []string
	flush := func() {
		for len(run) > 0 {
			n := min(len(run), max)
			b.WriteString(head)
			b.WriteString(" { ")
			b.WriteString(strings.Join(run[:n], ", "))
			b.WriteString(" }\n")
			run = run[n:]
		}
		head = ""
	}
	for line := range strings.Lines(script) {
		line = strings.TrimSuffix(line, "\n")
		h, elem, ok := splitElementCommand(line)
		if !ok {
			flush()
			b.WriteString(line)
			b.WriteByte('\n')
			continue
		}
		if h != head {
			flush()
			head = h
		}
		run = append(run, elem)
	}
	flush()
	return b.String()
}

// splitElementCommand splits "add element FAMILY TABLE SET { ELEM }" (or
// delete) into its head and ELEM, for a plain ELEM only.
func splitElementCommand(line string) (head, elem string, ok bool) {
	if !strings.HasPrefix(line, "add element ") && !strings.HasPrefix(line, "delete element ") {
		return "", "", false
	}
	i := strings.Index(line, " { ")
	if i < 0 || !strings.HasSuffix(line, " }") || i+3 > len(line)-2 {
		return "", "", false
	}
	head, elem = line[:i], line[i+3:len(line)-2]
	if strings.ContainsAny(elem, "{},\"#") || strings.Contains(elem, "comment") || strings.Count(head, " ") != 4 {
		return "", "", false
	}
	return head, elem, true
}

// Check implements knftables.Interface.
func (r *ExecNFT) Check(ctx context.Context, tx *knftables.Transaction) error {
	return r.in(func() error { return r.nft.Check(ctx, tx) })
}

// ListAll implements knftables.Interface.
func (r *ExecNFT) ListAll(ctx context.Context) (out map[string][]string, err error) {
	err = r.in(func() error { out, err = r.nft.ListAll(ctx); return err })
	return out, err
}

// List implements knftables.Interface.
func (r *ExecNFT) List(ctx context.Context, objectType string) (out []string, err error) {
	err = r.in(func() error { out, err = r.nft.List(ctx, objectType); return err })
	return out, err
}

// ListRules implements knftables.Interface.
func (r *ExecNFT) ListRules(ctx context.Context, chain string) (out []*knftables.Rule, err error) {
	err = r.in(func() error { out, err = r.nft.ListRules(ctx, chain); return err })
	return out, err
}

// ListElements implements knftables.Interface.
func (r *ExecNFT) ListElements(ctx context.Context, objectType, name string) (out []*knftables.Element, err error) {
	err = r.in(func() error { out, err = r.nft.ListElements(ctx, objectType, name); return err })
	return out, err
}

// ListCounters implements knftables.Interface.
func (r *ExecNFT) ListCounters(ctx context.Context) (out []*knftables.Counter, err error) {
	err = r.in(func() error { out, err = r.nft.ListCounters(ctx); return err })
	return out, err
}

// SetSysctl implements NFTRunner.
func (r *ExecNFT) SetSysctl(name, value string) error {
	return r.in(func() error {
		p := filepath.Join("/proc/sys", filepath.Clean("/"+name))
		if err := os.WriteFile(p, []byte(value), 0o644); err != nil {
			return fmt.Errorf("setting sysctl %s=%s: %w", name, value, err)
		}
		return nil
	})
}

// childrenCPU is the user + system time of this process's reaped
// children.
func childrenCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// nftDeleteTable removes the proxy's table; no error when it is absent
// ("add" first makes the delete succeed either way).
func nftDeleteTable(nft knftables.Interface) error {
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	if err := nft.Run(context.Background(), tx); err != nil {
		return fmt.Errorf("deleting nftables table ip %s: %w", NFTTable, err)
	}
	return nil
}
