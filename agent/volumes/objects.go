package volumes

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// ErrObjectNotFound is what an Objects getter wraps when the object does not
// exist. (agent/pods re-exports it as pods.ErrObjectNotFound.)
var ErrObjectNotFound = errors.New("object not found")

// Objects reads ConfigMaps and Secrets from the control plane.
type Objects interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// ConfigError says the pod refers to configuration that is missing or
// unusable; kubelet reports it as CreateContainerConfigError.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// GetConfigMap reads a ConfigMap; a missing one is a *ConfigError unless
// optional, in which case it returns (nil, nil).
func GetConfigMap(ctx context.Context, o Objects, ns, name string, optional bool) (*corev1.ConfigMap, error) {
	cm, err := o.ConfigMap(ctx, ns, name)
	if errors.Is(err, ErrObjectNotFound) {
		if optional {
			return nil, nil
		}
		return nil, &ConfigError{Msg: fmt.Sprintf("configmap %q not found", name)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading configmap %s/%s: %w", ns, name, err)
	}
	return cm, nil
}

// GetSecret reads a Secret; a missing one is a *ConfigError unless optional,
// in which case it returns (nil, nil).
func GetSecret(ctx context.Context, o Objects, ns, name string, optional bool) (*corev1.Secret, error) {
	s, err := o.Secret(ctx, ns, name)
	if errors.Is(err, ErrObjectNotFound) {
		if optional {
			return nil, nil
		}
		return nil, &ConfigError{Msg: fmt.Sprintf("secret %q not found", name)}
	}
	if err != nil {
		return nil, fmt.Errorf("reading secret %s/%s: %w", ns, name, err)
	}
	return s, nil
}

// SecretData returns a Secret's data with stringData merged in.
func SecretData(s *corev1.Secret) map[string][]byte {
	out := make(map[string][]byte, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		out[k] = v
	}
	for k, v := range s.StringData {
		out[k] = []byte(v)
	}
	return out
}

// ConfigMapData returns a ConfigMap's data and binaryData as bytes.
func ConfigMapData(cm *corev1.ConfigMap) map[string][]byte {
	out := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.Data {
		out[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		out[k] = v
	}
	return out
}
