package runtime

import "errors"

// Classified errors; test with errors.Is. The names follow the reasons
// Kubernetes shows in container statuses.
var (
	ErrInvalidImageName = errors.New("InvalidImageName")
	ErrImagePull        = errors.New("ErrImagePull")
	ErrImageNeverPull   = errors.New("ErrImageNeverPull")
	ErrNotFound         = errors.New("not found")
	ErrAlreadyExists    = errors.New("already exists")
	ErrNotRunning       = errors.New("container not running")
	// ErrUnavailable: containerd does not answer (not running, or not
	// yet); waiting may mend it.
	ErrUnavailable = errors.New("container runtime unavailable")
)
