package events

import (
	"encoding/json"
	"sort"
)

// Redacted stands in for every Secret value in log, history, diff and
// trace output. Keys stay visible: which keys changed is useful, their
// values never leave the cluster through those verbs.
const Redacted = "<redacted>"

// SealedAnnotation marks a placeholder for a Secret whose payload is sealed
// and whose key was not given (a replay without --key).
const SealedAnnotation = "strom.dev/sealed"

// IsSecret reports whether a resource's payloads are sealed in the log.
func IsSecret(resource string) bool { return resource == "secrets" }

// RedactObject returns obj with a Secret's data and stringData values
// replaced by Redacted; other resources are returned unchanged. A payload
// that is not JSON (a sealed one) is replaced by nothing.
func RedactObject(resource string, obj []byte) []byte {
	if !IsSecret(resource) || len(obj) == 0 {
		return obj
	}
	var m map[string]any
	if err := json.Unmarshal(obj, &m); err != nil {
		return nil
	}
	for _, field := range []string{"data", "stringData"} {
		if d, ok := m[field].(map[string]any); ok {
			for k := range d {
				d[k] = Redacted
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return out
}

// SealedPlaceholder is the object shown for a Secret whose payload could
// not be opened: its identity from the envelope, an annotation saying why,
// no data.
func SealedPlaceholder(e *Event) []byte {
	meta := map[string]any{
		"name": e.Name,
		"uid":  e.UID,
		"annotations": map[string]string{
			SealedAnnotation: "payload encrypted with " + SealAlgorithm + "; replay with --key to read it",
		},
	}
	if e.Namespace != "" {
		meta["namespace"] = e.Namespace
	}
	if len(e.Labels) > 0 {
		meta["labels"] = e.Labels
	}
	out, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta})
	return out
}

// SortedKeys returns a map's keys in order (for stable output).
func SortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
