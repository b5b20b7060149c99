package objects

import (
	"encoding/json"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// maxDataBytes bounds the data of a ConfigMap or Secret, as in Kubernetes.
const maxDataBytes = 1 << 20

func validateDataKey(key string, p *field.Path) field.ErrorList {
	return msgErrs(p, key, validation.IsConfigMapKey(key))
}

func validateConfigMap(cm *corev1.ConfigMap) field.ErrorList {
	var errs field.ErrorList
	size := 0
	dp, bp := field.NewPath("data"), field.NewPath("binaryData")
	for k, v := range cm.Data {
		errs = append(errs, validateDataKey(k, dp.Key(k))...)
		size += len(k) + len(v)
	}
	for k, v := range cm.BinaryData {
		errs = append(errs, validateDataKey(k, bp.Key(k))...)
		if _, dup := cm.Data[k]; dup {
			errs = append(errs, field.Invalid(bp.Key(k), k, "duplicate of key present in data"))
		}
		size += len(k) + len(v)
	}
	if size > maxDataBytes {
		errs = append(errs, field.TooLong(dp, "", maxDataBytes))
	}
	return errs
}

// secretRequiredKeys lists the keys each well-known secret type must hold.
var secretRequiredKeys = map[corev1.SecretType][]string{
	corev1.SecretTypeTLS:              {corev1.TLSCertKey, corev1.TLSPrivateKeyKey},
	corev1.SecretTypeDockerConfigJson: {corev1.DockerConfigJsonKey},
	corev1.SecretTypeDockercfg:        {corev1.DockerConfigKey},
	corev1.SecretTypeSSHAuth:          {corev1.SSHAuthPrivateKey},
}

func validateSecret(s *corev1.Secret) field.ErrorList {
	var errs field.ErrorList
	dp := field.NewPath("data")
	size := 0
	for k, v := range s.Data {
		errs = append(errs, validateDataKey(k, dp.Key(k))...)
		size += len(k) + len(v)
	}
	for k, v := range s.StringData {
		errs = append(errs, validateDataKey(k, field.NewPath("stringData").Key(k))...)
		if _, dup := s.Data[k]; !dup {
			size += len(k) + len(v)
		}
	}
	if size > maxDataBytes {
		errs = append(errs, field.TooLong(dp, "", maxDataBytes))
	}
	if s.Type == "" {
		errs = append(errs, field.Required(field.NewPath("type"), ""))
	}
	has := func(k string) bool {
		_, inData := s.Data[k]
		_, inString := s.StringData[k]
		return inData || inString
	}
	for _, k := range secretRequiredKeys[s.Type] {
		if !has(k) {
			errs = append(errs, field.Required(dp.Key(k), ""))
		}
	}
	switch s.Type {
	case corev1.SecretTypeBasicAuth:
		if !has(corev1.BasicAuthUsernameKey) && !has(corev1.BasicAuthPasswordKey) {
			errs = append(errs, field.Required(dp.Key(corev1.BasicAuthUsernameKey), "one of username or password is required"))
		}
	case corev1.SecretTypeDockerConfigJson, corev1.SecretTypeDockercfg:
		key := corev1.DockerConfigJsonKey
		if s.Type == corev1.SecretTypeDockercfg {
			key = corev1.DockerConfigKey
		}
		raw, ok := s.Data[key]
		if !ok {
			if str, ok2 := s.StringData[key]; ok2 {
				raw, ok = []byte(str), true
			}
		}
		var v map[string]any
		if ok && json.Unmarshal(raw, &v) != nil {
			errs = append(errs, field.Invalid(dp.Key(key), "<secret contents redacted>", "invalid JSON"))
		}
	case corev1.SecretTypeServiceAccountToken:
		if s.Annotations[corev1.ServiceAccountNameKey] == "" {
			errs = append(errs, field.Required(field.NewPath("metadata", "annotations").Key(corev1.ServiceAccountNameKey), ""))
		}
	}
	return errs
}
