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
)
