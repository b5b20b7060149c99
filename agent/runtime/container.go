package runtime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	containerd "github.com/containerd/containerd"
	"github.com/containerd/containerd/cio"
	"github.com/containerd/containerd/errdefs"
	"github.com/containerd/containerd/oci"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"go.uber.org/zap"
)

// CreateContainer creates a container of the pod in its sandbox.
func (c *Containerd) CreateContainer(ctx context.Context, sb Sandbox, cfg ContainerConfig) (string, error) {
	ctx = c.ns(ctx)
	if cfg.Name == "" {
		return "", fmt.Errorf("creating container in pod %s: empty container name", sb.PodUID)
	}
	name, err := NormalizeImage(cfg.Image)
	if err != nil {
		return "", err
	}
	img, err := c.client.GetImage(ctx, name)
	if errdefs.IsNotFound(err) {
		return "", fmt.Errorf("creating container %s of pod %s: image %s not present: %w", cfg.Name, sb.PodUID, name, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("looking up image %s: %w", name, err)
	}
	imgSpec, err := img.Spec(ctx)
	if err != nil {
		return "", fmt.Errorf("reading config of image %s: %w", name, err)
	}
	args := ResolveArgs(imgSpec.Config.Entrypoint, imgSpec.Config.Cmd, cfg.Command, cfg.Args)
	if len(args) == 0 {
		return "", fmt.Errorf("creating container %s of pod %s: no command given and image %s has none", cfg.Name, sb.PodUID, name)
	}
	id := ContainerID(sb.PodUID, cfg.Name, cfg.RestartCount)
	logPath := LogPath(c.cfg.LogDir, sb.Namespace, sb.Name, sb.PodUID, cfg.Name, cfg.RestartCount)
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return "", fmt.Errorf("creating log dir of %s: %w", id, err)
	}

	specOpts := []oci.SpecOpts{
		oci.WithImageConfig(img),
		oci.WithProcessArgs(args...),
		oci.WithEnv(cfg.Env),
		oci.WithHostname(sb.Hostname),
		oci.WithLinuxNamespace(specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: sb.NetNSPath}),
		oci.WithMounts(containerMounts(sb, cfg.Mounts)),
	}
	if cfg.WorkingDir != "" {
		specOpts = append(specOpts, oci.WithProcessCwd(cfg.WorkingDir))
	}
	specOpts = append(specOpts, resourceOpts(cfg.Resources)...)

	_, err = c.client.NewContainer(ctx, id,
		containerd.WithImage(img),
		containerd.WithSnapshotter(c.cfg.Snapshotter),
		containerd.WithNewSnapshot(id, img),
		containerd.WithNewSpec(specOpts...),
		containerd.WithContainerLabels(containerLabels(sb, cfg, logPath)),
	)
	if errdefs.IsAlreadyExists(err) {
		return id, fmt.Errorf("creating container %s: %w", id, ErrAlreadyExists)
	}
	if err != nil {
		// A failed create can leave the snapshot behind; remove it so a
		// retry starts clean.
		_ = c.client.SnapshotService(c.cfg.Snapshotter).Remove(ctx, id)
		return "", fmt.Errorf("creating container %s of pod %s: %w", cfg.Name, sb.PodUID, err)
	}
	c.log.Debug("created container", zap.String("id", id), zap.String("pod", sb.Namespace+"/"+sb.Name), zap.String("container", cfg.Name))
	return id, nil
}

// containerMounts binds the pod files and the volumes into the container.
func containerMounts(sb Sandbox, vols []Mount) []specs.Mount {
	bind := func(src, dst string, ro bool) specs.Mount {
		opt := "rw"
		if ro {
			opt = "ro"
		}
		return specs.Mount{Type: "bind", Source: src, Destination: dst, Options: []string{"rbind", "rprivate", opt}}
	}
	m := []specs.Mount{
		bind(filepath.Join(sb.Dir, "hosts"), "/etc/hosts", false),
		bind(filepath.Join(sb.Dir, "hostname"), "/etc/hostname", false),
		bind(filepath.Join(sb.Dir, "resolv.conf"), "/etc/resolv.conf", false),
	}
	for _, v := range vols {
		m = append(m, bind(v.HostPath, v.ContainerPath, v.ReadOnly))
	}
	return m
}

func resourceOpts(r Resources) []oci.SpecOpts {
	var o []oci.SpecOpts
	if r.MemoryLimitBytes > 0 {
		o = append(o, oci.WithMemoryLimit(uint64(r.MemoryLimitBytes)))
	}
	if r.CPULimitMillis > 0 {
		o = append(o, oci.WithCPUCFS(CPUQuota(r.CPULimitMillis), cfsPeriod))
	}
	if r.CPURequestMillis > 0 {
		o = append(o, oci.WithCPUShares(CPUShares(r.CPURequestMillis)))
	}
	if r.PidsLimit > 0 {
		o = append(o, oci.WithPidsLimit(r.PidsLimit))
	}
	return o
}

// StartContainer starts the container's task, its output appended to the
// container's log file by the shim. Starting a running container succeeds.
func (c *Containerd) StartContainer(ctx context.Context, id string) error {
	ctx = c.ns(ctx)
	ctr, err := c.loadContainer(ctx, id)
	if err != nil {
		return err
	}
	labels, err := ctr.Labels(ctx)
	if err != nil {
		return fmt.Errorf("reading labels of %s: %w", id, err)
	}
	if task, err := ctr.Task(ctx, nil); err == nil {
		st, err := task.Status(ctx)
		if err != nil {
			return fmt.Errorf("reading task status of %s: %w", id, err)
		}
		switch st.Status {
		case containerd.Running, containerd.Paused, containerd.Pausing:
			return nil
		case containerd.Stopped:
			return fmt.Errorf("starting %s: it already ran and exited; create a new container for the restart", id)
		}
		// Created but never started (e.g. the agent died in between).
		return c.startTask(ctx, ctr, task)
	} else if !errdefs.IsNotFound(err) {
		return fmt.Errorf("loading task of %s: %w", id, err)
	}
	logPath := labels[LabelLogPath]
	if logPath == "" {
		return fmt.Errorf("starting %s: container has no %s label", id, LabelLogPath)
	}
	task, err := ctr.NewTask(ctx, c.logCreator(logPath))
	if err != nil {
		return fmt.Errorf("creating task of %s: %w", id, err)
	}
	return c.startTask(ctx, ctr, task)
}

// logCreator sends a new task's output to its log file.
func (c *Containerd) logCreator(logPath string) cio.Creator {
	if c.cfg.LogDriver == "" {
		return cio.LogFile(logPath)
	}
	return cio.BinaryIO(c.cfg.LogDriver, map[string]string{LogDriverArg: logPath})
}

func (c *Containerd) startTask(ctx context.Context, ctr containerd.Container, task containerd.Task) error {
	// Taken before Start: a short-lived process can exit before Start
	// returns, and StartedAt must not come after FinishedAt.
	now := c.clock.Now().UTC().Format(time.RFC3339Nano)
	if err := task.Start(ctx); err != nil {
		if _, derr := task.Delete(ctx, containerd.WithProcessKill); derr != nil {
			c.log.Warn("deleting task after failed start", zap.String("id", ctr.ID()), zap.Error(derr))
		}
		return fmt.Errorf("starting task of %s: %w", ctr.ID(), err)
	}
	if _, err := ctr.SetLabels(ctx, map[string]string{LabelStartedAt: now}); err != nil {
		return fmt.Errorf("recording start time of %s: %w", ctr.ID(), err)
	}
	return nil
}

// StopContainer stops the task: SIGTERM, grace, SIGKILL.
func (c *Containerd) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	ctx = c.ns(ctx)
	ctr, err := c.loadContainer(ctx, id)
	if err != nil {
		return err
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading task of %s: %w", id, err)
	}
	exited, err := task.Wait(ctx)
	if err != nil {
		return fmt.Errorf("waiting on %s: %w", id, err)
	}
	st, err := task.Status(ctx)
	if err != nil {
		return fmt.Errorf("reading task status of %s: %w", id, err)
	}
	if st.Status == containerd.Stopped {
		return nil
	}
	if st.Status == containerd.Created {
		// Never started: nothing runs; deleting the task stops it.
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("deleting unstarted task of %s: %w", id, err)
		}
		return nil
	}
	if grace > 0 {
		if err := task.Kill(ctx, syscall.SIGTERM); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("sending SIGTERM to %s: %w", id, err)
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-exited:
			return nil
		case <-timer.C:
			c.log.Info("container did not stop within its grace period; killing", zap.String("id", id), zap.Duration("grace", grace))
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := task.Kill(ctx, syscall.SIGKILL, containerd.WithKillAll); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("sending SIGKILL to %s: %w", id, err)
	}
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for %s to die: %w", id, ctx.Err())
	}
}

// ContainerStatus reports the container's state, exit code and times.
func (c *Containerd) ContainerStatus(ctx context.Context, id string) (ContainerStatus, error) {
	ctx = c.ns(ctx)
	ctr, err := c.loadContainer(ctx, id)
	if err != nil {
		return ContainerStatus{}, err
	}
	return c.status(ctx, ctr)
}

func (c *Containerd) status(ctx context.Context, ctr containerd.Container) (ContainerStatus, error) {
	info, err := ctr.Info(ctx, containerd.WithoutRefreshedMetadata)
	if err != nil {
		return ContainerStatus{}, fmt.Errorf("reading container %s: %w", ctr.ID(), err)
	}
	l := info.Labels
	s := ContainerStatus{
		ID:           ctr.ID(),
		PodUID:       l[LabelPodUID],
		PodNamespace: l[LabelPodNamespace],
		PodName:      l[LabelPodName],
		Name:         l[LabelContainerName],
		Image:        info.Image,
		CreatedAt:    info.CreatedAt,
		LogPath:      l[LabelLogPath],
		Labels:       l,
		State:        StateUnknown,
	}
	s.RestartCount, _ = strconv.Atoi(l[LabelRestartCount])
	if t, err := time.Parse(time.RFC3339Nano, l[LabelStartedAt]); err == nil {
		s.StartedAt = t
	}
	task, err := ctr.Task(ctx, nil)
	if errdefs.IsNotFound(err) {
		if s.StartedAt.IsZero() {
			s.State = StateCreated
		} else {
			s.State = StateExited // task deleted: exit code unknown
			s.ExitCode = -1
		}
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("loading task of %s: %w", ctr.ID(), err)
	}
	st, err := task.Status(ctx)
	if err != nil {
		return s, fmt.Errorf("reading task status of %s: %w", ctr.ID(), err)
	}
	s.PID = task.Pid()
	switch st.Status {
	case containerd.Created:
		s.State = StateCreated
	case containerd.Running, containerd.Paused, containerd.Pausing:
		s.State = StateRunning
	case containerd.Stopped:
		s.State = StateExited
		s.ExitCode = int(st.ExitStatus)
		s.FinishedAt = st.ExitTime
		s.OOMKilled = c.oomKilled(ctx, ctr, l)
	}
	return s, nil
}

// WaitContainer blocks until the container's task exits.
func (c *Containerd) WaitContainer(ctx context.Context, id string) (ContainerStatus, error) {
	ctx = c.ns(ctx)
	ctr, err := c.loadContainer(ctx, id)
	if err != nil {
		return ContainerStatus{}, err
	}
	task, err := ctr.Task(ctx, nil)
	if err != nil && !errdefs.IsNotFound(err) {
		return ContainerStatus{}, fmt.Errorf("loading task of %s: %w", id, err)
	}
	if err == nil {
		ch, err := task.Wait(ctx)
		if err != nil {
			return ContainerStatus{}, fmt.Errorf("waiting on %s: %w", id, err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ContainerStatus{}, ctx.Err()
		}
	}
	return c.status(ctx, ctr)
}

// ListContainers lists the runtime's containers carrying all of labels.
func (c *Containerd) ListContainers(ctx context.Context, labels map[string]string) ([]ContainerStatus, error) {
	ctx = c.ns(ctx)
	ctrs, err := c.client.Containers(ctx, labelFilter(labels))
	if err != nil {
		return nil, fmt.Errorf("listing containers: %w", err)
	}
	out := make([]ContainerStatus, 0, len(ctrs))
	for _, ctr := range ctrs {
		s, err := c.status(ctx, ctr)
		if errdefs.IsNotFound(err) {
			continue // removed meanwhile
		}
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return out, nil
}

// labelFilter builds a containerd filter matching the runtime's containers
// with all the given labels.
func labelFilter(labels map[string]string) string {
	parts := []string{fmt.Sprintf("labels.%q==%q", LabelManaged, "true")}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("labels.%q==%q", k, labels[k]))
	}
	return strings.Join(parts, ",")
}

// RemoveContainer kills and deletes the task, then the container and its
// snapshot.
func (c *Containerd) RemoveContainer(ctx context.Context, id string) error {
	ctx = c.ns(ctx)
	ctr, err := c.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("loading container %s: %w", id, err)
	}
	task, err := ctr.Task(ctx, nil)
	switch {
	case errdefs.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("loading task of %s: %w", id, err)
	default:
		if _, err := task.Delete(ctx, containerd.WithProcessKill); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("deleting task of %s: %w", id, err)
		}
	}
	if err := ctr.Delete(ctx, containerd.WithSnapshotCleanup); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("deleting container %s: %w", id, err)
	}
	return nil
}

func (c *Containerd) loadContainer(ctx context.Context, id string) (containerd.Container, error) {
	ctr, err := c.client.LoadContainer(ctx, id)
	if errdefs.IsNotFound(err) {
		return nil, fmt.Errorf("container %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("loading container %s: %w", id, err)
	}
	return ctr, nil
}
