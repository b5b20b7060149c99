package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/test/logtest"
)

type stromd struct {
	cmd     *exec.Cmd
	dataDir string
	logPath string
}

// startStromd runs the stromd binary and waits for it to serve. extra
// flags follow the defaults (a later --api-listen wins).
func startStromd(t *testing.T, dataDir string, port int, extra ...string) *stromd {
	t.Helper()
	return startStromdLogging(t, dataDir, dataDir, port, extra...)
}

// startStromdLogging is startStromd with its log in logDir.
func startStromdLogging(t *testing.T, dataDir, logDir string, port int, extra ...string) *stromd {
	t.Helper()
	logPath := filepath.Join(logDir, fmt.Sprintf("stromd-%d.log", time.Now().UnixNano()))
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	adminConf := filepath.Join(dataDir, "admin.conf")
	os.Remove(adminConf)
	cmd := exec.Command(filepath.Join(binDir, "stromd"), "--data-dir", dataDir, "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--no-agent", "--snapshot-every", "500", "--api-listen", "127.0.0.1:0")
	cmd.Args = append(cmd.Args, extra...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &stromd{cmd: cmd, dataDir: dataDir, logPath: logPath}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(adminConf); err == nil {
			return s
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("stromd did not write admin.conf within 30s; log:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *stromd) client(t *testing.T) *api.Client {
	t.Helper()
	cfg, err := api.LoadConfig(filepath.Join(s.dataDir, "admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := api.Dial(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// writeStorm is writers clients each applying ConfigMap w<i> with n
// counting up, one write at a time, until stopped or a write fails.
type writeStorm struct {
	mu     sync.Mutex
	acked  []int // last acknowledged n per writer
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func startWriteStorm(c *api.Client, writers int) *writeStorm {
	ctx, cancel := context.WithCancel(context.Background())
	s := &writeStorm{acked: make([]int, writers), cancel: cancel}
	for w := 0; w < writers; w++ {
		s.wg.Add(1)
		go func(w int) {
			defer s.wg.Done()
			for n := 1; ctx.Err() == nil; n++ {
				rctx, rc := context.WithTimeout(ctx, 2*time.Second)
				_, err := c.Do(rctx, api.VerbApply, &api.Request{Namespace: "default", Object: configMap("w"+strconv.Itoa(w), n)})
				rc()
				if err != nil {
					return // the server died under us
				}
				s.mu.Lock()
				s.acked[w] = n
				s.mu.Unlock()
			}
		}(w)
	}
	return s
}

// waitFor waits until total writes were acknowledged.
func (s *writeStorm) waitFor(t *testing.T, total int) {
	t.Helper()
	logtest.Eventually(t, 30*time.Second, func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		sum := 0
		for _, a := range s.acked {
			sum += a
		}
		if sum < total {
			return fmt.Errorf("%d writes acknowledged so far", sum)
		}
		return nil
	})
}

// stop ends the storm and returns the last acknowledged n per writer.
func (s *writeStorm) stop() []int {
	s.cancel()
	s.wg.Wait()
	return append([]int(nil), s.acked...)
}

// check reads every writer's ConfigMap back and describes the first one
// whose last acknowledged write is missing ("" when none is).
func (s *writeStorm) check(t *testing.T, c *api.Client, acked []int) string {
	t.Helper()
	k := objects.ByKind("ConfigMap")
	for w, a := range acked {
		resp, err := c.Do(context.Background(), api.VerbGet, &api.Request{Resource: "configmaps", Namespace: "default", Name: "w" + strconv.Itoa(w)})
		if err != nil {
			if a == 0 {
				continue
			}
			return fmt.Sprintf("writer %d had %d writes acknowledged, but now: %v", w, a, err)
		}
		obj, err := objects.DecodeStored(k, resp.Object)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := strconv.Atoi(obj.(*corev1.ConfigMap).Data["n"])
		// The write in flight at the failure may or may not have landed.
		if got != a && got != a+1 {
			return fmt.Sprintf("writer %d: last acknowledged n=%d, now n=%d", w, a, got)
		}
	}
	return ""
}

func configMap(name string, n int) []byte {
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Data:       map[string]string{"n": strconv.Itoa(n)},
	}
	data, _ := json.Marshal(cm)
	return data
}

// Every write acknowledged to a client is there after stromd is killed
// with SIGKILL in the middle of a write storm and restarted.
func TestKill9LosesNoAcknowledgedWrite(t *testing.T) {
	dataDir := t.TempDir()
	port := freePort(t)
	d := startStromd(t, dataDir, port)
	c := d.client(t)

	const writers = 8
	storm := startWriteStorm(c, writers)
	// Let a few thousand writes through, then kill -9 mid-stream.
	storm.waitFor(t, 2000)
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = d.cmd.Wait()
	acked := storm.stop()
	c.Close()

	d2 := startStromd(t, dataDir, port)
	c2 := d2.client(t)
	if lost := storm.check(t, c2, acked); lost != "" {
		t.Fatal(lost)
	}
	// Graceful stop with SIGTERM exits 0.
	if err := d2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := d2.cmd.Wait(); err != nil {
		log, _ := os.ReadFile(d2.logPath)
		t.Fatalf("stromd exit after SIGTERM: %v\n%s", err, log)
	}
}
