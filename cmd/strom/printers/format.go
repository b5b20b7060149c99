package printers

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	none    = "<none>"
	unset   = "<unset>"
	unknown = "<unknown>"
)

// age is kubectl's translateTimestampSince: how long ago t was, or
// "<unknown>" for a zero time.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return unknown
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// microAge is age for a MicroTime.
func microAge(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return unknown
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// orNone returns s, or "<none>" when s is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}

func boolString(b bool) string {
	if b {
		return "True"
	}
	return "False"
}

func boolPtrString(b *bool) string {
	if b == nil {
		return unset
	}
	return boolString(*b)
}

func int32Or(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

// selectorString formats a label selector as kubectl's wide columns do:
// "app=web", "<none>" when empty, "<error>" when invalid.
func selectorString(s *metav1.LabelSelector) string {
	return metav1.FormatLabelSelector(s)
}

// mapLabels formats a plain label map ("a=b,c=d"), "<none>" when empty.
func mapLabels(m map[string]string) string {
	return labels.FormatLabels(m)
}

// containerNamesImages gives the CONTAINERS and IMAGES wide columns.
func containerNamesImages(cs []corev1.Container) (string, string) {
	names := make([]string, 0, len(cs))
	images := make([]string, 0, len(cs))
	for _, c := range cs {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// sortedResourceNames returns a resource list's names in order.
func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(l))
	for n := range l {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool { return names[i] < names[j] })
	return names
}

// rfc1123 is how describe prints timestamps.
func rfc1123(t metav1.Time) string { return t.Time.Format(time.RFC1123Z) }

// createdAt is the CREATED AT column of roles and limit ranges.
func createdAt(t metav1.Time) string { return t.UTC().Format(time.RFC3339) }

// controllerOf is "ReplicaSet/web-abc" for an object with a controller.
func controllerOf(o metav1.Object) string {
	if ref := metav1.GetControllerOf(o); ref != nil {
		return fmt.Sprintf("%s/%s", ref.Kind, ref.Name)
	}
	return ""
}

// accessModes is kubectl's short form of access modes: "RWO,ROX".
func accessModes(modes []corev1.PersistentVolumeAccessMode) string {
	has := map[corev1.PersistentVolumeAccessMode]bool{}
	for _, m := range modes {
		has[m] = true
	}
	var out []string
	for _, m := range []struct {
		mode  corev1.PersistentVolumeAccessMode
		short string
	}{
		{corev1.ReadWriteOnce, "RWO"},
		{corev1.ReadOnlyMany, "ROX"},
		{corev1.ReadWriteMany, "RWX"},
		{corev1.ReadWriteOncePod, "RWOP"},
	} {
		if has[m.mode] {
			out = append(out, m.short)
		}
	}
	return strings.Join(out, ",")
}

// protocolOr returns p, or TCP when empty, as the API server defaults it.
func protocolOr(p corev1.Protocol) corev1.Protocol {
	if p == "" {
		return corev1.ProtocolTCP
	}
	return p
}

// intOrStringPtr formats an optional int-or-string ("25%", "1"), "<nil>"
// when unset, as fmt prints a nil pointer.
func intOrStringPtr(v *intstr.IntOrString) string {
	if v == nil {
		return "<nil>"
	}
	return v.String()
}

// sortStable sorts a slice in place, keeping equal elements in order, with a less function on values.
func sortStable[T any](s []T, less func(a, b T) bool) {
	sort.SliceStable(s, func(i, j int) bool { return less(s[i], s[j]) })
}
