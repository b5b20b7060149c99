package pods

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/strom-project/strom/agent/probes"
	"github.com/strom-project/strom/agent/runtime"
	"github.com/strom-project/strom/agent/volumes"
	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
)

// startContext is what actions of one sync round share.
type startContext struct {
	pod     *corev1.Pod
	sb      runtime.Sandbox
	paths   volumes.Paths
	volErrs map[string]error
	waiting map[string]waitState // updated with why containers wait
}

// findContainer returns the spec of a container (init or app) by name.
func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for i := range pod.Spec.InitContainers {
		if pod.Spec.InitContainers[i].Name == name {
			return &pod.Spec.InitContainers[i]
		}
	}
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == name {
			return &pod.Spec.Containers[i]
		}
	}
	return nil
}

// act carries out one action.
func (w *worker) act(ctx context.Context, sc startContext, a action) {
	c := findContainer(sc.pod, a.Name)
	if c == nil {
		return
	}
	switch a.Kind {
	case actCreate:
		id, ok := w.create(ctx, sc, c, a)
		if ok {
			w.start(ctx, sc, c, id)
		}
	case actStart:
		w.start(ctx, sc, c, a.ID)
	case actKill:
		w.event(sc.pod, corev1.EventTypeNormal, "Killing", fmt.Sprintf("Container %s %s, will be restarted", c.Name, a.Why))
		grace := gracePeriod(sc.pod)
		if c.LivenessProbe != nil && c.LivenessProbe.TerminationGracePeriodSeconds != nil {
			grace = seconds(*c.LivenessProbe.TerminationGracePeriodSeconds)
		}
		if err := w.killContainer(ctx, sc.pod, c, a.ID, sc.sb, grace); err != nil {
			w.log.Warn("killing unhealthy container", zap.String("container", c.Name), zap.Error(err))
		}
		w.probes.stopContainer(a.ID)
	}
}

// wait records why a container cannot get its next run, with an event
// when the reason or message is new.
func (w *worker) wait(sc startContext, c *corev1.Container, reason, msg, eventType, eventReason, eventMsg string) {
	ws := waitState{Reason: reason, Message: msg}
	if prev, ok := w.lastWait[c.Name]; !ok || prev != ws {
		w.event(sc.pod, eventType, eventReason, eventMsg)
	}
	sc.waiting[c.Name] = ws
}

// create prepares image, environment and mounts and creates the run; it
// reports false when the container has to wait.
func (w *worker) create(ctx context.Context, sc startContext, c *corev1.Container, a action) (string, bool) {
	pod := sc.pod
	for _, vm := range c.VolumeMounts {
		if err, bad := sc.volErrs[vm.Name]; bad {
			var ce *volumes.ConfigError
			if errors.As(err, &ce) {
				w.wait(sc, c, "CreateContainerConfigError", ce.Msg, corev1.EventTypeWarning, "Failed", "Error: "+ce.Msg)
			} else {
				w.wait(sc, c, "ContainerCreating", err.Error(), corev1.EventTypeWarning, "FailedMount",
					fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", vm.Name, err))
			}
			return "", false
		}
	}
	img, ok := w.pull(ctx, sc, c)
	if !ok {
		return "", false
	}
	ec := envContext{Pod: pod, PodIP: sc.sb.IP, HostIP: w.m.cfg.NodeIP, Objects: w.m.cfg.Objects}
	env, err := containerEnv(ctx, ec, c)
	if err != nil {
		w.wait(sc, c, "CreateContainerConfigError", err.Error(), corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return "", false
	}
	mounts, err := volumes.ContainerMounts(pod, c, sc.paths)
	if err != nil {
		w.wait(sc, c, "CreateContainerConfigError", err.Error(), corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return "", false
	}
	vals := envMap(env)
	cfg := runtime.ContainerConfig{
		Name:         c.Name,
		RestartCount: a.Restart,
		Image:        img.Name,
		Command:      expandAll(c.Command, vals),
		Args:         expandAll(c.Args, vals),
		Env:          env,
		WorkingDir:   c.WorkingDir,
		Mounts:       mounts,
		Resources:    resources(c),
	}
	id, err := w.m.rt.CreateContainer(ctx, sc.sb, cfg)
	if err != nil && !errors.Is(err, runtime.ErrAlreadyExists) {
		w.wait(sc, c, "CreateContainerError", err.Error(), corev1.EventTypeWarning, "Failed", "Error: "+err.Error())
		return "", false
	}
	if a.Backoff && a.Prev != nil {
		w.backoff.restarted(c.Name, a.Prev.StartedAt, a.Prev.FinishedAt)
	}
	delete(sc.waiting, c.Name)
	w.event(pod, corev1.EventTypeNormal, "Created", "Created container "+c.Name)
	return id, true
}

// pull makes the container's image present, honouring imagePullPolicy and
// the pull back-off.
func (w *worker) pull(ctx context.Context, sc startContext, c *corev1.Container) (runtime.Image, bool) {
	now := w.m.clock.Now()
	if nb := w.backoff.pullNotBefore(c.Image); now.Before(nb) {
		msg := fmt.Sprintf("Back-off pulling image %q", c.Image)
		sc.waiting[c.Name] = waitState{Reason: "ImagePullBackOff", Message: msg}
		return runtime.Image{}, false
	}
	present, _ := w.m.rt.ImageExists(ctx, c.Image)
	auth, err := w.pullAuth(ctx, sc.pod)
	if err != nil {
		w.log.Warn("reading imagePullSecrets", zap.Error(err))
	}
	img, err := w.m.rt.EnsureImage(ctx, c.Image, runtime.PullPolicy(c.ImagePullPolicy), auth)
	switch {
	case err == nil:
		w.backoff.pullSucceeded(c.Image)
		w.imageIDs[c.Image] = img.Digest
		if present && c.ImagePullPolicy != corev1.PullAlways {
			w.event(sc.pod, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", c.Image))
		} else {
			w.event(sc.pod, corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q", c.Image))
		}
		return img, true
	case errors.Is(err, runtime.ErrImageNeverPull):
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", c.Image)
		w.wait(sc, c, "ErrImageNeverPull", msg, corev1.EventTypeWarning, "ErrImageNeverPull", msg)
	case errors.Is(err, runtime.ErrInvalidImageName):
		msg := fmt.Sprintf("Failed to apply default image tag %q: %v", c.Image, err)
		w.wait(sc, c, "InvalidImageName", msg, corev1.EventTypeWarning, "InspectFailed", msg)
	default:
		msg := fmt.Sprintf("Failed to pull image %q: %v", c.Image, err)
		w.backoff.pullFailed(c.Image, now)
		w.wait(sc, c, "ErrImagePull", msg, corev1.EventTypeWarning, "Failed", msg)
	}
	return runtime.Image{}, false
}

// pullAuth reads the pod's imagePullSecrets (kubernetes.io/dockerconfigjson
// or dockercfg).
func (w *worker) pullAuth(ctx context.Context, pod *corev1.Pod) (map[string]runtime.RegistryAuth, error) {
	var maps []map[string]runtime.RegistryAuth
	var errs []error
	for _, ref := range pod.Spec.ImagePullSecrets {
		s, err := volumes.GetSecret(ctx, w.m.cfg.Objects, pod.Namespace, ref.Name, true)
		if err != nil || s == nil {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		data := volumes.SecretData(s)
		raw, ok := data[corev1.DockerConfigJsonKey]
		if !ok {
			raw, ok = data[corev1.DockerConfigKey]
		}
		if !ok {
			continue
		}
		a, err := runtime.ParseDockerConfig(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("secret %s: %w", ref.Name, err))
			continue
		}
		maps = append(maps, a)
	}
	if len(maps) == 0 {
		return nil, errors.Join(errs...)
	}
	return runtime.MergeAuth(maps...), errors.Join(errs...)
}

// start starts a created run and runs its postStart hook.
func (w *worker) start(ctx context.Context, sc startContext, c *corev1.Container, id string) {
	if err := w.m.rt.StartContainer(ctx, id); err != nil {
		msg := startErrorMessage(err)
		w.failed[id] = startFailure{Message: msg, At: w.m.clock.Now()}
		w.event(sc.pod, corev1.EventTypeWarning, "Failed", "Error: "+msg)
		return
	}
	w.event(sc.pod, corev1.EventTypeNormal, "Started", "Started container "+c.Name)
	if c.Lifecycle == nil || c.Lifecycle.PostStart == nil {
		return
	}
	hctx, cancel := context.WithTimeout(ctx, gracePeriod(sc.pod)+minHookTime)
	defer cancel()
	if err := probes.RunHook(hctx, c.Lifecycle.PostStart, w.target(sc.sb)(c, id)); err != nil {
		w.event(sc.pod, corev1.EventTypeWarning, "FailedPostStartHook", err.Error())
		if kerr := w.killContainer(ctx, sc.pod, c, id, sc.sb, gracePeriod(sc.pod)); kerr != nil {
			w.log.Warn("killing container after failed postStart", zap.Error(kerr))
		}
	}
}

// startErrorMessage keeps the useful end of a runtime start error (the OCI
// runtime's "exec: ...: not found").
func startErrorMessage(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "OCI runtime"); i >= 0 {
		return "failed to create containerd task: " + msg[i:]
	}
	return msg
}

// resources converts limits and requests to the runtime's form.
func resources(c *corev1.Container) runtime.Resources {
	var r runtime.Resources
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		r.MemoryLimitBytes = q.Value()
	}
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		r.CPULimitMillis = q.MilliValue()
	}
	if q, ok := c.Resources.Requests[corev1.ResourceCPU]; ok {
		r.CPURequestMillis = q.MilliValue()
	} else if r.CPULimitMillis > 0 {
		r.CPURequestMillis = r.CPULimitMillis // requests default to limits
	}
	return r
}
