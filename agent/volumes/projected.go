package volumes

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// configMapFiles computes the files of a configMap volume; nil files with a
// nil error means an optional missing ConfigMap (an empty volume).
func configMapFiles(ctx context.Context, o Objects, ns string, src *corev1.ConfigMapVolumeSource) (map[string]File, error) {
	optional := src.Optional != nil && *src.Optional
	cm, err := GetConfigMap(ctx, o, ns, src.Name, optional)
	if err != nil || cm == nil {
		return map[string]File{}, err
	}
	return keyFiles(ConfigMapData(cm), src.Items, src.DefaultMode, optional, "ConfigMap", ns+"/"+src.Name)
}

func secretFiles(ctx context.Context, o Objects, ns string, src *corev1.SecretVolumeSource) (map[string]File, error) {
	optional := src.Optional != nil && *src.Optional
	s, err := GetSecret(ctx, o, ns, src.SecretName, optional)
	if err != nil || s == nil {
		return map[string]File{}, err
	}
	return keyFiles(SecretData(s), src.Items, src.DefaultMode, optional, "Secret", ns+"/"+src.SecretName)
}

// keyFiles maps an object's keys to files: every key under its own name, or
// only the listed items under their paths.
func keyFiles(data map[string][]byte, items []corev1.KeyToPath, def *int32, optional bool, kind, name string) (map[string]File, error) {
	out := map[string]File{}
	if len(items) == 0 {
		for _, k := range sortedKeys(data) {
			out[k] = File{Data: data[k], Mode: fileMode(nil, def)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, &ConfigError{Msg: fmt.Sprintf("couldn't find key %s in %s %s", it.Key, kind, name)}
		}
		out[it.Path] = File{Data: v, Mode: fileMode(it.Mode, def)}
	}
	return out, nil
}

func downwardAPIFiles(pod *corev1.Pod, src *corev1.DownwardAPIVolumeSource) (map[string]File, error) {
	out := map[string]File{}
	for _, it := range src.Items {
		if it.FieldRef == nil {
			if it.ResourceFieldRef != nil {
				return nil, &ConfigError{Msg: fmt.Sprintf("downwardAPI item %s: resourceFieldRef is not supported in volumes", it.Path)}
			}
			continue
		}
		v, err := DownwardField(pod, it.FieldRef.FieldPath, "", "")
		if err != nil {
			return nil, &ConfigError{Msg: fmt.Sprintf("downwardAPI item %s: %v", it.Path, err)}
		}
		out[it.Path] = File{Data: []byte(v), Mode: fileMode(it.Mode, src.DefaultMode)}
	}
	return out, nil
}

// DownwardField resolves a fieldRef path of the downward API. podIP and
// hostIP fill the status fields (volumes have none at setup time).
func DownwardField(pod *corev1.Pod, path, podIP, hostIP string) (string, error) {
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// subscript parses prefix['key'].
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok {
		return "", false
	}
	key, ok := strings.CutSuffix(rest, "']")
	return key, ok
}

// formatMap renders labels or annotations as kubelet does: key="value"
// lines, sorted.
func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(k + "=" + strconv.Quote(m[k]))
	}
	return b.String()
}
