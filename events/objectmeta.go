package events

import (
	"encoding/json"
	"fmt"
	"reflect"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/strom-project/strom/events/objects"
)

// indexFields copies what projections index from an object into the event.
func indexFields(e *Event, obj objects.Object) {
	e.Labels = obj.GetLabels()
	e.Owners = e.Owners[:0]
	for _, o := range obj.GetOwnerReferences() {
		e.Owners = append(e.Owners, string(o.UID))
	}
	e.NodeName = podNodeName(obj)
}

// podNodeName reads spec.nodeName of pods (and of the other kinds that
// have one, a string or, as ResourceSlices', a pointer to one) without
// importing every type here.
func podNodeName(obj objects.Object) string {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer {
		return ""
	}
	spec := v.Elem().FieldByName("Spec")
	if !spec.IsValid() || spec.Kind() != reflect.Struct {
		return ""
	}
	n := spec.FieldByName("NodeName")
	if n.IsValid() && n.Kind() == reflect.Pointer && !n.IsNil() {
		n = n.Elem()
	}
	if !n.IsValid() || n.Kind() != reflect.String {
		return ""
	}
	return n.String()
}

// statusField returns the object's Status field, if the kind has one.
func statusField(obj objects.Object) (reflect.Value, bool) {
	v := reflect.ValueOf(obj).Elem().FieldByName("Status")
	return v, v.IsValid()
}

// copyStatus sets dst's status to src's (both of one kind).
func copyStatus(dst, src objects.Object) {
	d, ok := statusField(dst)
	if !ok {
		return
	}
	s, _ := statusField(src)
	d.Set(s)
}

// clearStatus resets the object's status to what a new object starts
// with: users write spec, the cluster writes status.
func clearStatus(obj objects.Object) {
	if v, ok := statusField(obj); ok {
		v.Set(reflect.Zero(v.Type()))
	}
	switch o := obj.(type) {
	case *corev1.Pod:
		o.Status.Phase = corev1.PodPending
	case *corev1.Namespace:
		o.Status.Phase = corev1.NamespaceActive
	case *corev1.PersistentVolume:
		o.Status.Phase = corev1.VolumePending
	case *corev1.PersistentVolumeClaim:
		o.Status.Phase = corev1.ClaimPending
	}
}

// specEqual compares everything but metadata and status: the part whose
// change bumps metadata.generation.
func specEqual(a, b objects.Object) bool {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	t := va.Type()
	for i := 0; i < t.NumField(); i++ {
		switch t.Field(i).Name {
		case "TypeMeta", "ObjectMeta", "Status":
			continue
		}
		if !equality.Semantic.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
			return false
		}
	}
	return true
}

// objectEqual compares two objects semantically, resourceVersion aside.
func objectEqual(a, b objects.Object) bool {
	ra, rb := a.GetResourceVersion(), b.GetResourceVersion()
	a.SetResourceVersion("")
	b.SetResourceVersion("")
	eq := equality.Semantic.DeepEqual(a, b)
	a.SetResourceVersion(ra)
	b.SetResourceVersion(rb)
	return eq
}

// deepCopy copies an object through its generated DeepCopyObject.
func deepCopy(obj objects.Object) objects.Object {
	return obj.DeepCopyObject().(objects.Object)
}

// marshalStored encodes an object for the log: without resourceVersion,
// which is the stream sequence and known only once stored.
func marshalStored(obj objects.Object) ([]byte, error) {
	rv := obj.GetResourceVersion()
	obj.SetResourceVersion("")
	data, err := json.Marshal(obj)
	obj.SetResourceVersion(rv)
	if err != nil {
		return nil, fmt.Errorf("encoding %s: %w", obj.GetName(), err)
	}
	if len(data) > objects.MaxObjectBytes {
		return nil, Errorf(ReasonInvalid, "%s is %d bytes, over the limit of %d bytes (1 MiB)", obj.GetName(), len(data), objects.MaxObjectBytes)
	}
	return data, nil
}
