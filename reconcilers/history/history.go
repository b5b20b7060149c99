package history

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
)

// HashLabel is the label that carries a revision's hash.
const HashLabel = appsv1.ControllerRevisionHashLabelKey

// maxPrefix keeps <parent>-<hash> within a DNS subdomain (253).
const maxPrefix = 223

// TemplatePatch returns the revision data for a pod template: a patch
// that, applied to the parent, replaces its template.
func TemplatePatch(t *corev1.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("encoding pod template: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("encoding pod template: %w", err)
	}
	m["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": m}})
}

// Template decodes the pod template a revision holds.
func Template(rev *appsv1.ControllerRevision) (*corev1.PodTemplateSpec, error) {
	var d struct {
		Spec struct {
			Template json.RawMessage `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &d); err != nil {
		return nil, fmt.Errorf("decoding controllerrevision %s: %w", rev.Name, err)
	}
	if len(d.Spec.Template) == 0 {
		return nil, fmt.Errorf("controllerrevision %s holds no spec.template", rev.Name)
	}
	var t corev1.PodTemplateSpec
	if err := json.Unmarshal(d.Spec.Template, &t); err != nil { // "$patch" is ignored
		return nil, fmt.Errorf("decoding the template of controllerrevision %s: %w", rev.Name, err)
	}
	return &t, nil
}

// Hash is the hash of revision data and a collision count, as the name
// suffix and the HashLabel value.
func Hash(data []byte, collisionCount *int32) string {
	h := fnv.New32()
	h.Write(data)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// Name is the name of parent's revision with hash.
func Name(parent, hash string) string {
	if len(parent) > maxPrefix {
		parent = parent[:maxPrefix]
	}
	return parent + "-" + hash
}

// New builds a revision of parent (of kind gvk) holding data, with the
// template's labels, a controller reference to parent, and the given
// revision number.
func New(parent metav1.Object, gvk schema.GroupVersionKind, templateLabels map[string]string, data []byte, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	labels := make(map[string]string, len(templateLabels)+1)
	for k, v := range templateLabels {
		labels[k] = v
	}
	hash := Hash(data, collisionCount)
	labels[HashLabel] = hash
	return &appsv1.ControllerRevision{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "ControllerRevision"},
		ObjectMeta: metav1.ObjectMeta{
			Name:            Name(parent.GetName(), hash),
			Namespace:       parent.GetNamespace(),
			Labels:          labels,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(parent, gvk)},
		},
		Data:     runtimeRaw(data),
		Revision: revision,
	}
}

// Equal reports whether two revisions hold the same template: equal
// hashes where both have one, and equal data.
func Equal(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	ha, oka := a.Labels[HashLabel]
	hb, okb := b.Labels[HashLabel]
	if oka && okb && ha != hb {
		return false
	}
	return bytes.Equal(a.Data.Raw, b.Data.Raw)
}

// FindEqual returns the revisions equal to needle.
func FindEqual(revs []*appsv1.ControllerRevision, needle *appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, r := range revs {
		if Equal(r, needle) {
			out = append(out, r)
		}
	}
	return out
}

// Sort orders revisions oldest first: by revision number, then creation
// time, then name.
func Sort(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// Next is the revision number after the highest in revs (1 for none).
func Next(revs []*appsv1.ControllerRevision) int64 {
	var max int64
	for _, r := range revs {
		if r.Revision > max {
			max = r.Revision
		}
	}
	return max + 1
}
