package runtime

import (
	"context"
	"errors"
	"testing"
	"time"
)

// testContract checks the behaviour the sync loop relies on, the same way
// for the fake and for containerd. image must be present in rt.
func testContract(t *testing.T, rt Runtime, image string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	if _, err := rt.EnsureImage(ctx, "strom.test/not-here:1", PullNever, nil); !errors.Is(err, ErrImageNeverPull) {
		t.Errorf("EnsureImage Never of a missing image: %v", err)
	}
	if _, err := rt.EnsureImage(ctx, image, PullNever, nil); err != nil {
		t.Fatalf("EnsureImage Never of a present image: %v", err)
	}
	if _, err := rt.Sandbox(ctx, "contract-uid"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Sandbox of an unknown pod: %v", err)
	}
	cfg := SandboxConfig{PodUID: "contract-uid", Namespace: "ns1", Name: "pod1"}
	sb, err := rt.CreateSandbox(ctx, cfg)
	if err != nil {
		t.Fatalf("CreateSandbox: %v", err)
	}
	if sb.Hostname != "pod1" || sb.NetNSPath == "" {
		t.Errorf("sandbox = %+v", sb)
	}
	if again, err := rt.CreateSandbox(ctx, cfg); err != nil || again.NetNSPath != sb.NetNSPath {
		t.Errorf("CreateSandbox twice = %+v %v", again, err)
	}
	if sb2, err := rt.SetSandboxIP(ctx, "contract-uid", "10.1.2.3"); err != nil || sb2.IP != "10.1.2.3" {
		t.Errorf("SetSandboxIP = %+v %v", sb2, err)
	}

	id, err := rt.CreateContainer(ctx, sb, ContainerConfig{Name: "main", Image: image, Command: []string{"sleep", "3600"}})
	if err != nil {
		t.Fatalf("CreateContainer: %v", err)
	}
	if _, err := rt.CreateContainer(ctx, sb, ContainerConfig{Name: "main", Image: image}); !errors.Is(err, ErrAlreadyExists) {
		t.Errorf("CreateContainer twice: %v", err)
	}
	if _, err := rt.CreateContainer(ctx, sb, ContainerConfig{Name: "x", Image: "strom.test/not-here:1"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("CreateContainer with a missing image: %v", err)
	}
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil || st.State != StateCreated {
		t.Errorf("status after create = %+v %v", st, err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Errorf("starting a running container: %v", err)
	}
	st, err = rt.ContainerStatus(ctx, id)
	if err != nil || st.State != StateRunning || st.PID == 0 || st.StartedAt.IsZero() {
		t.Errorf("status after start = %+v %v", st, err)
	}
	if st.Name != "main" || st.PodUID != "contract-uid" || st.PodName != "pod1" || st.PodNamespace != "ns1" {
		t.Errorf("identity = %+v", st)
	}
	list, err := rt.ListContainers(ctx, map[string]string{LabelPodUID: "contract-uid"})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("ListContainers = %+v %v", list, err)
	}
	if code, err := rt.Exec(ctx, id, ExecConfig{Cmd: []string{"true"}}); err != nil || code != 0 {
		t.Errorf("Exec true = %d %v", code, err)
	}

	waited := make(chan ContainerStatus, 1)
	go func() {
		s, _ := rt.WaitContainer(ctx, id)
		waited <- s
	}()
	if err := rt.StopContainer(ctx, id, 0); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	select {
	case s := <-waited:
		if s.State != StateExited || s.ExitCode != 137 {
			t.Errorf("WaitContainer after kill = %s %d, want Exited 137", s.State, s.ExitCode)
		}
	case <-ctx.Done():
		t.Fatalf("WaitContainer did not return after stop")
	}
	if _, err := rt.Exec(ctx, id, ExecConfig{Cmd: []string{"true"}}); err == nil {
		t.Errorf("exec in an exited container succeeded")
	}
	if err := rt.RemoveContainer(ctx, id); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if err := rt.RemoveContainer(ctx, id); err != nil {
		t.Errorf("RemoveContainer twice: %v", err)
	}
	if _, err := rt.ContainerStatus(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("status of a removed container: %v", err)
	}
	if err := rt.RemoveSandbox(ctx, "contract-uid"); err != nil {
		t.Fatalf("RemoveSandbox: %v", err)
	}
	if err := rt.RemoveSandbox(ctx, "contract-uid"); err != nil {
		t.Errorf("RemoveSandbox twice: %v", err)
	}
	if sbs, err := rt.ListSandboxes(ctx); err != nil || len(sbs) != 0 {
		t.Errorf("ListSandboxes after removal = %+v %v", sbs, err)
	}
}

func TestFakeContract(t *testing.T) {
	f := NewFake(nil)
	if err := f.AddImage("strom.test/busybox:1"); err != nil {
		t.Fatal(err)
	}
	testContract(t, f, "strom.test/busybox:1")
}

func TestContainerdContract(t *testing.T) {
	e := newEnv(t)
	testContract(t, e.rt, busybox)
}

func TestFakePullAndExit(t *testing.T) {
	f := NewFake(nil)
	ctx := context.Background()
	if _, err := f.EnsureImage(ctx, "nginx", "", nil); !errors.Is(err, ErrImagePull) {
		t.Fatalf("pull of an unpullable image: %v", err)
	}
	f.Pullable["docker.io/library/nginx:latest"] = true
	if _, err := f.EnsureImage(ctx, "nginx", "", nil); err != nil {
		t.Fatalf("pull: %v", err)
	}
	log := f.CallLog()
	if len(log) != 3 || log[2] != "Pull docker.io/library/nginx:latest" {
		t.Errorf("calls = %q", log)
	}
	sb, _ := f.CreateSandbox(ctx, SandboxConfig{PodUID: "u", Namespace: "n", Name: "p"})
	id, err := f.CreateContainer(ctx, sb, ContainerConfig{Name: "c", Image: "nginx"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Exit(id, 1, false); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Exit of a created container: %v", err)
	}
	if err := f.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := f.Exit(id, 137, true); err != nil {
		t.Fatal(err)
	}
	st, _ := f.ContainerStatus(ctx, id)
	if st.State != StateExited || st.ExitCode != 137 || !st.OOMKilled {
		t.Errorf("status = %+v", st)
	}
	if err := f.StartContainer(ctx, id); err == nil {
		t.Errorf("restarting an exited container succeeded")
	}
}
