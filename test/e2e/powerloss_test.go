package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// fsIOCShutdown is FS_IOC_SHUTDOWN (_IOR('X', 125, __u32)); with
// fsGoingDownNoLogFlush the filesystem stops at once: nothing more reaches
// the device, neither dirty pages nor the uncommitted journal, which is
// what a power cut leaves behind (xfstests' "godown" does the same).
const (
	fsIOCShutdown         = 0x8004587d
	fsGoingDownNoLogFlush = 0x2
)

// lossyDisk is an ext4 filesystem on a loop device over a sparse file,
// which a test can cut off as if the power went.
type lossyDisk struct {
	t     *testing.T
	image string
	dev   string
	mnt   string
}

func newLossyDisk(t *testing.T) *lossyDisk {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the power-loss test needs root (loop devices and mounts); run it as root, as make test does")
	}
	for _, tool := range []string{"losetup", "mkfs.ext4", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the power-loss test needs %s (util-linux, e2fsprogs): %v", tool, err)
		}
	}
	dir := t.TempDir()
	d := &lossyDisk{t: t, image: filepath.Join(dir, "disk.img"), mnt: filepath.Join(dir, "mnt")}
	if err := os.Mkdir(d.mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(d.image)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Fatal(err)
	}
	f.Close()
	d.run("mkfs.ext4", "-q", "-F", d.image)
	d.attach()
	t.Cleanup(d.detach)
	return d
}

func (d *lossyDisk) run(name string, args ...string) string {
	d.t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// attach sets the loop device up and mounts it.
func (d *lossyDisk) attach() {
	d.t.Helper()
	d.dev = d.run("losetup", "--find", "--show", d.image)
	d.run("mount", "-t", "ext4", d.dev, d.mnt)
}

// detach unmounts and releases the loop device (idempotent).
func (d *lossyDisk) detach() {
	if d.dev == "" {
		return
	}
	if out, err := exec.Command("umount", d.mnt).CombinedOutput(); err != nil {
		d.t.Errorf("umount %s: %v\n%s", d.mnt, err, out)
	}
	if out, err := exec.Command("losetup", "-d", d.dev).CombinedOutput(); err != nil {
		d.t.Errorf("losetup -d %s: %v\n%s", d.dev, err, out)
	}
	d.dev = ""
}

// cut stops the filesystem as a power loss would.
func (d *lossyDisk) cut() {
	d.t.Helper()
	f, err := os.Open(d.mnt)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	if err := unix.IoctlSetPointerInt(int(f.Fd()), fsIOCShutdown, fsGoingDownNoLogFlush); err != nil {
		d.t.Fatalf("FS_IOC_SHUTDOWN on %s: %v", d.mnt, err)
	}
}

// Every write acknowledged to a client is on disk: the data dir's
// filesystem is cut off in the middle of a write storm as a power loss
// would leave it (no more writeback, no journal flush), remounted, and
// every acknowledged write is there after stromd restarts. Group commit
// (the default) and one fsync per write must both hold.
func TestPowerLossLosesNoAcknowledgedWrite(t *testing.T) {
	for _, mode := range []string{"group", "always"} {
		t.Run("fsync="+mode, func(t *testing.T) {
			disk := newLossyDisk(t)
			dataDir := filepath.Join(disk.mnt, "data")
			logDir := t.TempDir()
			port := freePort(t)
			d := startStromdLogging(t, dataDir, logDir, port, "--fsync", mode, "--retention-size", "256MiB")
			c := d.client(t)
			storm := startWriteStorm(c, 8)
			storm.waitFor(t, 1500)
			disk.cut()
			if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = d.cmd.Wait()
			acked := storm.stop()
			c.Close()
			disk.detach()
			disk.attach()

			d2 := startStromdLogging(t, dataDir, logDir, port, "--fsync", mode, "--retention-size", "256MiB")
			if lost := storm.check(t, d2.client(t), acked); lost != "" {
				log, _ := os.ReadFile(d.logPath)
				t.Fatalf("after the power cut: %s\nfirst stromd's log:\n%s", lost, tail(log, 40))
			}
			if err := d2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			_ = d2.cmd.Wait()
		})
	}
}

// tail is the last n lines of a log.
func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
