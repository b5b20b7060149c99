package runtime

import (
	"context"
	"io"
	"time"
)

// Runtime is everything the pod sync loop needs from the container runtime.
// Methods are idempotent where it makes sense: removing what is gone succeeds.
type Runtime interface {
	// ImportImage loads an image archive (OCI layout or docker-archive tar)
	// and unpacks it; it returns the names of the imported images.
	ImportImage(ctx context.Context, r io.Reader) ([]string, error)
	// EnsureImage makes ref available according to policy, pulling with
	// auth (registry host -> credentials) when needed, and returns the
	// image. Errors wrap ErrInvalidImageName, ErrImageNeverPull or
	// ErrImagePull.
	EnsureImage(ctx context.Context, ref string, policy PullPolicy, auth map[string]RegistryAuth) (Image, error)
	ListImages(ctx context.Context) ([]Image, error)
	ImageExists(ctx context.Context, ref string) (bool, error)
	RemoveImage(ctx context.Context, ref string) error

	// CreateSandbox pins a network namespace for the pod and writes its
	// hostname, hosts and resolv.conf files. Calling it again for the same
	// pod returns the existing sandbox.
	CreateSandbox(ctx context.Context, cfg SandboxConfig) (Sandbox, error)
	// SetSandboxIP records the pod IP and adds it to the pod's /etc/hosts.
	SetSandboxIP(ctx context.Context, podUID, ip string) (Sandbox, error)
	// Sandbox returns the pod's sandbox, or an error wrapping ErrNotFound.
	Sandbox(ctx context.Context, podUID string) (Sandbox, error)
	ListSandboxes(ctx context.Context) ([]Sandbox, error)
	// RemoveSandbox removes the network namespace and the pod's files. Tear
	// down the pod network and remove its containers first.
	RemoveSandbox(ctx context.Context, podUID string) error

	// CreateContainer creates (does not start) a container in the pod's
	// sandbox and returns its ID. The ID is derived from pod UID, container
	// name and restart count; creating it twice fails with ErrAlreadyExists.
	CreateContainer(ctx context.Context, sb Sandbox, cfg ContainerConfig) (string, error)
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM, waits up to grace, then SIGKILLs. It
	// returns once the container has exited.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	ContainerStatus(ctx context.Context, id string) (ContainerStatus, error)
	// WaitContainer blocks until the container exits (or ctx ends) and
	// returns its final status.
	WaitContainer(ctx context.Context, id string) (ContainerStatus, error)
	// ListContainers returns the containers whose labels include all of
	// labels (nil lists every container of the runtime).
	ListContainers(ctx context.Context, labels map[string]string) ([]ContainerStatus, error)
	// Exec runs a command in a running container and returns its exit code.
	Exec(ctx context.Context, id string, cfg ExecConfig) (int, error)
	// RemoveContainer kills the task if needed and deletes the container and
	// its snapshot. Removing a missing container succeeds.
	RemoveContainer(ctx context.Context, id string) error
}
