package runtime

import (
	"io"
	"time"
)

// PullPolicy is a container's imagePullPolicy.
type PullPolicy string

// Pull policies, as in Kubernetes.
const (
	PullAlways       PullPolicy = "Always"
	PullIfNotPresent PullPolicy = "IfNotPresent"
	PullNever        PullPolicy = "Never"
)

// Image is an image known to the runtime.
type Image struct {
	Name   string // normalised reference, e.g. docker.io/library/busybox:latest
	Digest string // manifest (or index) digest
	Size   int64  // size of the content as stored, compressed
}

// RegistryAuth holds credentials for one registry host.
type RegistryAuth struct {
	Username string
	Password string
	// IdentityToken, when set, is used as an OAuth2 refresh token instead of
	// Username/Password.
	IdentityToken string
}

// DNSConfig is written to the pod's /etc/resolv.conf.
type DNSConfig struct {
	Nameservers []string
	Searches    []string
	Options     []string // e.g. "ndots:5"
}

// SandboxConfig describes the pod-level environment shared by the pod's
// containers.
type SandboxConfig struct {
	PodUID    string
	Namespace string
	Name      string
	Hostname  string // defaults to Name
	// HostAliases are extra /etc/hosts lines: IP -> names.
	HostAliases map[string][]string
	DNS         DNSConfig
}

// Sandbox is a pod's environment: its pinned network namespace and the files
// bind-mounted into its containers.
type Sandbox struct {
	PodUID    string    `json:"podUID"`
	Namespace string    `json:"namespace"`
	Name      string    `json:"name"`
	Hostname  string    `json:"hostname"`
	NetNSPath string    `json:"netnsPath"`
	Dir       string    `json:"dir"`          // holds hostname, hosts, resolv.conf
	IP        string    `json:"ip,omitempty"` // set by SetSandboxIP
	Created   time.Time `json:"created"`
}

// Mount is a bind mount of a host path prepared by the volume layer.
type Mount struct {
	HostPath      string
	ContainerPath string
	ReadOnly      bool
}

// Resources are a container's limits. Zero means unlimited.
type Resources struct {
	MemoryLimitBytes int64
	CPULimitMillis   int64 // CFS quota; 500 = half a CPU
	CPURequestMillis int64 // CPU shares
	PidsLimit        int64
}

// ContainerConfig describes one container of a pod.
type ContainerConfig struct {
	Name         string
	RestartCount int
	Image        string // reference; must be present (see EnsureImage)
	Command      []string
	Args         []string
	Env          []string // KEY=value, overriding the image's
	WorkingDir   string
	Mounts       []Mount
	Resources    Resources
	// Labels are extra containerd labels, e.g. a spec hash the sync loop uses
	// to notice changes. Keys under LabelPrefix are reserved.
	Labels map[string]string
}

// State of a container.
type State string

// Container states.
const (
	StateCreated State = "Created"
	StateRunning State = "Running"
	StateExited  State = "Exited"
	StateUnknown State = "Unknown"
)

// ContainerStatus is what the sync loop reports about a container.
type ContainerStatus struct {
	ID           string
	PodUID       string
	PodNamespace string
	PodName      string
	Name         string // container name in the pod
	RestartCount int
	Image        string
	State        State
	PID          uint32
	ExitCode     int
	OOMKilled    bool
	CreatedAt    time.Time
	StartedAt    time.Time
	FinishedAt   time.Time
	LogPath      string
	Labels       map[string]string
}

// ExecConfig is a command to run inside a running container.
type ExecConfig struct {
	Cmd    []string
	Env    []string // added to the container's environment
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	TTY    bool
	// Resize, with TTY, carries the terminal's size changes; nil: the
	// size never changes.
	Resize <-chan TerminalSize
}

// TerminalSize is a terminal's size in characters.
type TerminalSize struct{ Width, Height uint16 }
