package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// LabelPrefix starts every label the runtime sets on containers.
const LabelPrefix = "strom.io/"

// Container labels set by the runtime.
const (
	LabelPodUID        = LabelPrefix + "pod-uid"
	LabelPodNamespace  = LabelPrefix + "pod-namespace"
	LabelPodName       = LabelPrefix + "pod-name"
	LabelContainerName = LabelPrefix + "container-name"
	LabelRestartCount  = LabelPrefix + "restart-count"
	LabelLogPath       = LabelPrefix + "log-path"
	LabelStartedAt     = LabelPrefix + "started-at"
	LabelOOMKilled     = LabelPrefix + "oom-killed"
	LabelManaged       = LabelPrefix + "managed"
)

// ContainerID derives the containerd ID of a pod's container for one restart:
// a readable prefix from the container name plus a hash of the identity, so
// retries of a half-done create collide instead of leaking a twin.
func ContainerID(podUID, name string, restart int) string {
	sum := sha256.Sum256([]byte(podUID + "/" + name + "/" + strconv.Itoa(restart)))
	prefix := sanitizeID(name)
	if len(prefix) > 40 {
		prefix = prefix[:40]
	}
	h := hex.EncodeToString(sum[:])[:20]
	if prefix == "" {
		return h
	}
	return prefix + "-" + h
}

// sanitizeID keeps [a-z0-9] and turns anything else into single dashes.
func sanitizeID(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// containerLabels returns the labels the runtime stores on a container.
func containerLabels(sb Sandbox, cfg ContainerConfig, logPath string) map[string]string {
	l := map[string]string{}
	for k, v := range cfg.Labels {
		if !strings.HasPrefix(k, LabelPrefix) {
			l[k] = v
		}
	}
	l[LabelManaged] = "true"
	l[LabelPodUID] = sb.PodUID
	l[LabelPodNamespace] = sb.Namespace
	l[LabelPodName] = sb.Name
	l[LabelContainerName] = cfg.Name
	l[LabelRestartCount] = strconv.Itoa(cfg.RestartCount)
	l[LabelLogPath] = logPath
	return l
}
