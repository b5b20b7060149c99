package runtime

import (
	"fmt"

	"github.com/distribution/reference"
)

// NormalizeImage turns an image reference into the fully qualified form
// Kubernetes uses: "busybox" -> "docker.io/library/busybox:latest",
// "nginx@sha256:..." keeps its digest. Invalid references wrap
// ErrInvalidImageName.
func NormalizeImage(ref string) (string, error) {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v", ErrInvalidImageName, ref, err)
	}
	return named.String(), nil
}

// registryHost returns the registry host of a normalised reference
// ("docker.io" for Docker Hub).
func registryHost(normalized string) string {
	named, err := reference.ParseNormalizedNamed(normalized)
	if err != nil {
		return ""
	}
	return reference.Domain(named)
}
