package runtime

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"

	"k8s.io/utils/clock"
)

// Fake is an in-memory Runtime for unit tests of the sync loop. Containers
// run until StopContainer or Exit; images are present when imported or
// added with AddImage; pulls succeed for images listed in Pullable and fail
// with ErrImagePull otherwise. It records every call in Calls.
type Fake struct {
	mu sync.Mutex
	// Pullable lists normalised image names a pull can fetch.
	Pullable map[string]bool
	// ExecFunc, when set, answers Exec; the default exits 0.
	ExecFunc func(id string, cfg ExecConfig) (int, error)
	// Calls records method names with their main argument, e.g.
	// "StartContainer main-1a2b". Read it with CallLog while other
	// goroutines use the fake.
	Calls []string

	clock      clock.PassiveClock
	images     map[string]Image
	sandboxes  map[string]Sandbox
	containers map[string]*fakeContainer
	nextPID    uint32
	changed    chan struct{}
}

type fakeContainer struct {
	status ContainerStatus
	cfg    ContainerConfig
}

var _ Runtime = (*Fake)(nil)

// NewFake returns an empty fake runtime using clk (the wall clock if nil).
func NewFake(clk clock.PassiveClock) *Fake {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &Fake{
		Pullable:   map[string]bool{},
		clock:      clk,
		images:     map[string]Image{},
		sandboxes:  map[string]Sandbox{},
		containers: map[string]*fakeContainer{},
		nextPID:    1000,
		changed:    make(chan struct{}),
	}
}

// record appends to Calls; f.mu must be held.
func (f *Fake) record(call string) { f.Calls = append(f.Calls, call) }

// CallLog returns a copy of Calls.
func (f *Fake) CallLog() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Calls...)
}

// notify wakes WaitContainer callers; f.mu must be held.
func (f *Fake) notify() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// AddImage makes an image present.
func (f *Fake) AddImage(ref string) error {
	name, err := NormalizeImage(ref)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[name] = Image{Name: name, Digest: "sha256:fake-" + name, Size: 1}
	return nil
}

// ImportImage reads the archive and adds the image named by its first line
// (the fake does not parse archives).
func (f *Fake) ImportImage(ctx context.Context, r io.Reader) ([]string, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	name := string(b)
	for i, c := range name {
		if c == '\n' {
			name = name[:i]
			break
		}
	}
	if err := f.AddImage(name); err != nil {
		return nil, err
	}
	n, _ := NormalizeImage(name)
	f.mu.Lock()
	f.record("ImportImage " + n)
	f.mu.Unlock()
	return []string{n}, nil
}

// EnsureImage applies the pull policy to the fake's images.
func (f *Fake) EnsureImage(ctx context.Context, ref string, policy PullPolicy, auth map[string]RegistryAuth) (Image, error) {
	name, err := NormalizeImage(ref)
	if err != nil {
		return Image{}, err
	}
	if policy == "" {
		policy = DefaultPullPolicy(name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("EnsureImage " + name + " " + string(policy))
	img, ok := f.images[name]
	switch {
	case ok && policy != PullAlways:
		return img, nil
	case !ok && policy == PullNever:
		return Image{}, fmt.Errorf("%w: image %s is not present", ErrImageNeverPull, name)
	}
	if !f.Pullable[name] {
		return Image{}, fmt.Errorf("%w: pulling %s: not found", ErrImagePull, name)
	}
	f.record("Pull " + name)
	img = Image{Name: name, Digest: "sha256:fake-" + name, Size: 1}
	f.images[name] = img
	return img, nil
}

// ListImages lists the fake's images sorted by name.
func (f *Fake) ListImages(ctx context.Context) ([]Image, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Image, 0, len(f.images))
	for _, i := range f.images {
		out = append(out, i)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ImageExists tells whether the image is present.
func (f *Fake) ImageExists(ctx context.Context, ref string) (bool, error) {
	name, err := NormalizeImage(ref)
	if err != nil {
		return false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.images[name]
	return ok, nil
}

// RemoveImage deletes the image.
func (f *Fake) RemoveImage(ctx context.Context, ref string) error {
	name, err := NormalizeImage(ref)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveImage " + name)
	delete(f.images, name)
	return nil
}

// CreateSandbox records a sandbox with a made-up netns path.
func (f *Fake) CreateSandbox(ctx context.Context, cfg SandboxConfig) (Sandbox, error) {
	if err := validPodUID(cfg.PodUID); err != nil {
		return Sandbox{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("CreateSandbox " + cfg.PodUID)
	if sb, ok := f.sandboxes[cfg.PodUID]; ok {
		return sb, nil
	}
	host := cfg.Hostname
	if host == "" {
		host = cfg.Name
	}
	sb := Sandbox{
		PodUID: cfg.PodUID, Namespace: cfg.Namespace, Name: cfg.Name, Hostname: host,
		NetNSPath: "/fake/netns/" + cfg.PodUID, Dir: "/fake/pods/" + cfg.PodUID, Created: f.clock.Now(),
	}
	f.sandboxes[cfg.PodUID] = sb
	return sb, nil
}

// SetSandboxIP records the pod IP.
func (f *Fake) SetSandboxIP(ctx context.Context, podUID, ip string) (Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sb, ok := f.sandboxes[podUID]
	if !ok {
		return Sandbox{}, fmt.Errorf("sandbox of pod %s: %w", podUID, ErrNotFound)
	}
	sb.IP = ip
	f.sandboxes[podUID] = sb
	return sb, nil
}

// Sandbox returns a recorded sandbox.
func (f *Fake) Sandbox(ctx context.Context, podUID string) (Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	sb, ok := f.sandboxes[podUID]
	if !ok {
		return Sandbox{}, fmt.Errorf("sandbox of pod %s: %w", podUID, ErrNotFound)
	}
	return sb, nil
}

// ListSandboxes lists sandboxes sorted by pod UID.
func (f *Fake) ListSandboxes(ctx context.Context) ([]Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Sandbox, 0, len(f.sandboxes))
	for _, sb := range f.sandboxes {
		out = append(out, sb)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PodUID < out[j].PodUID })
	return out, nil
}

// RemoveSandbox forgets a sandbox.
func (f *Fake) RemoveSandbox(ctx context.Context, podUID string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveSandbox " + podUID)
	delete(f.sandboxes, podUID)
	return nil
}

// CreateContainer records a created container; the image must be present.
func (f *Fake) CreateContainer(ctx context.Context, sb Sandbox, cfg ContainerConfig) (string, error) {
	name, err := NormalizeImage(cfg.Image)
	if err != nil {
		return "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := ContainerID(sb.PodUID, cfg.Name, cfg.RestartCount)
	f.record("CreateContainer " + id)
	if _, ok := f.images[name]; !ok {
		return "", fmt.Errorf("creating container %s: image %s not present: %w", cfg.Name, name, ErrNotFound)
	}
	if _, ok := f.containers[id]; ok {
		return id, fmt.Errorf("creating container %s: %w", id, ErrAlreadyExists)
	}
	labels := containerLabels(sb, cfg, LogPath("/fake/logs", sb.Namespace, sb.Name, sb.PodUID, cfg.Name, cfg.RestartCount))
	f.containers[id] = &fakeContainer{cfg: cfg, status: ContainerStatus{
		ID: id, PodUID: sb.PodUID, PodNamespace: sb.Namespace, PodName: sb.Name, Name: cfg.Name,
		RestartCount: cfg.RestartCount, Image: name, State: StateCreated, CreatedAt: f.clock.Now(),
		LogPath: labels[LabelLogPath], Labels: labels,
	}}
	return id, nil
}

func (f *Fake) get(id string) (*fakeContainer, error) {
	c, ok := f.containers[id]
	if !ok {
		return nil, fmt.Errorf("container %s: %w", id, ErrNotFound)
	}
	return c, nil
}

// StartContainer marks a created container running.
func (f *Fake) StartContainer(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StartContainer " + id)
	c, err := f.get(id)
	if err != nil {
		return err
	}
	switch c.status.State {
	case StateRunning:
		return nil
	case StateExited:
		return fmt.Errorf("starting %s: it already ran and exited", id)
	}
	f.nextPID++
	c.status.State = StateRunning
	c.status.PID = f.nextPID
	c.status.StartedAt = f.clock.Now()
	c.status.Labels[LabelStartedAt] = c.status.StartedAt.UTC().Format(time.RFC3339Nano)
	f.notify()
	return nil
}

// Exit makes a running container exit as if its process ended.
func (f *Fake) Exit(id string, code int, oomKilled bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(id)
	if err != nil {
		return err
	}
	if c.status.State != StateRunning {
		return fmt.Errorf("container %s is %s: %w", id, c.status.State, ErrNotRunning)
	}
	f.exit(c, code, oomKilled)
	return nil
}

func (f *Fake) exit(c *fakeContainer, code int, oom bool) {
	c.status.State = StateExited
	c.status.ExitCode = code
	c.status.OOMKilled = oom
	c.status.FinishedAt = f.clock.Now()
	c.status.PID = 0
	f.notify()
}

// StopContainer makes a running container exit: with code 0 when grace > 0
// (it honours SIGTERM), 137 otherwise.
func (f *Fake) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("StopContainer " + id)
	c, err := f.get(id)
	if err != nil {
		return err
	}
	if c.status.State != StateRunning {
		return nil
	}
	code := 0
	if grace <= 0 {
		code = 137
	}
	f.exit(c, code, false)
	return nil
}

// ContainerStatus returns a copy of the container's status.
func (f *Fake) ContainerStatus(ctx context.Context, id string) (ContainerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, err := f.get(id)
	if err != nil {
		return ContainerStatus{}, err
	}
	return copyStatus(c.status), nil
}

func copyStatus(s ContainerStatus) ContainerStatus {
	l := make(map[string]string, len(s.Labels))
	for k, v := range s.Labels {
		l[k] = v
	}
	s.Labels = l
	return s
}

// WaitContainer blocks until the container has exited.
func (f *Fake) WaitContainer(ctx context.Context, id string) (ContainerStatus, error) {
	for {
		f.mu.Lock()
		c, err := f.get(id)
		if err != nil {
			f.mu.Unlock()
			return ContainerStatus{}, err
		}
		if c.status.State == StateExited {
			s := copyStatus(c.status)
			f.mu.Unlock()
			return s, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ContainerStatus{}, ctx.Err()
		}
	}
}

// ListContainers lists containers carrying all labels, oldest first.
func (f *Fake) ListContainers(ctx context.Context, labels map[string]string) ([]ContainerStatus, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []ContainerStatus
	for _, c := range f.containers {
		match := true
		for k, v := range labels {
			if c.status.Labels[k] != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, copyStatus(c.status))
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		if out[i].RestartCount != out[j].RestartCount {
			return out[i].RestartCount < out[j].RestartCount
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Exec answers with ExecFunc, or exit code 0.
func (f *Fake) Exec(ctx context.Context, id string, cfg ExecConfig) (int, error) {
	f.mu.Lock()
	f.record("Exec " + id + " " + strconv.Quote(fmt.Sprint(cfg.Cmd)))
	c, err := f.get(id)
	if err == nil && c.status.State != StateRunning {
		err = fmt.Errorf("exec in %s: %w", id, ErrNotRunning)
	}
	fn := f.ExecFunc
	f.mu.Unlock()
	if err != nil {
		return -1, err
	}
	if fn != nil {
		return fn(id, cfg)
	}
	return 0, nil
}

// RemoveContainer forgets a container.
func (f *Fake) RemoveContainer(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("RemoveContainer " + id)
	delete(f.containers, id)
	f.notify()
	return nil
}
