package runtime

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// dockerConfigEntry is one registry of a docker config file.
type dockerConfigEntry struct {
	Auth          string `json:"auth"`
	Username      string `json:"username"`
	Password      string `json:"password"`
	IdentityToken string `json:"identitytoken"`
}

// ParseDockerConfig reads registry credentials from the contents of a
// kubernetes.io/dockerconfigjson secret ({"auths": {host: {...}}}) or a legacy
// kubernetes.io/dockercfg one ({host: {...}}). Keys are normalised to bare
// registry hosts ("https://index.docker.io/v1/" -> "docker.io").
func ParseDockerConfig(data []byte) (map[string]RegistryAuth, error) {
	var wrapped struct {
		Auths map[string]dockerConfigEntry `json:"auths"`
	}
	if err := json.Unmarshal(data, &wrapped); err != nil {
		return nil, fmt.Errorf("parsing docker config: %w", err)
	}
	entries := wrapped.Auths
	if entries == nil {
		if err := json.Unmarshal(data, &entries); err != nil {
			return nil, fmt.Errorf("parsing legacy docker config: %w", err)
		}
	}
	out := map[string]RegistryAuth{}
	for key, e := range entries {
		a := RegistryAuth{Username: e.Username, Password: e.Password, IdentityToken: e.IdentityToken}
		if e.Auth != "" {
			raw, err := base64.StdEncoding.DecodeString(e.Auth)
			if err != nil {
				return nil, fmt.Errorf("decoding auth of %s: %w", key, err)
			}
			user, pass, ok := strings.Cut(string(raw), ":")
			if !ok {
				return nil, fmt.Errorf("auth of %s is not user:password", key)
			}
			a.Username, a.Password = user, pass
		}
		out[canonicalHost(key)] = a
	}
	return out, nil
}

// MergeAuth merges several credential maps (e.g. one per imagePullSecret);
// earlier ones win, as the first matching secret does in Kubernetes.
func MergeAuth(maps ...map[string]RegistryAuth) map[string]RegistryAuth {
	out := map[string]RegistryAuth{}
	for _, m := range maps {
		for k, v := range m {
			if _, ok := out[k]; !ok {
				out[k] = v
			}
		}
	}
	return out
}

// canonicalHost reduces a docker config key or registry host to the host
// name used as map key; all Docker Hub aliases become docker.io.
func canonicalHost(key string) string {
	h := key
	if strings.Contains(h, "://") {
		if u, err := url.Parse(h); err == nil {
			h = u.Host
		}
	}
	h, _, _ = strings.Cut(h, "/")
	h = strings.ToLower(h)
	switch h {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return h
}

// lookupAuth finds credentials for a registry host.
func lookupAuth(auth map[string]RegistryAuth, host string) (RegistryAuth, bool) {
	a, ok := auth[canonicalHost(host)]
	return a, ok
}
