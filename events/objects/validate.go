package objects

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Default fills in what Kubernetes fills in when a field is left out, so
// that what is stored and served is what will run. It is idempotent.
func Default(obj Object) {
	defaultObject(obj)
}

// Validate checks an object as the API server would. Every error names the
// field path at fault, e.g. spec.template.spec.containers[0].image.
func Validate(obj Object) field.ErrorList {
	return validateObject(obj, false)
}

// ValidateWrite is Validate as the write path applies it: the same
// checks, except that generateName does not stand in for a name (the
// write path does not generate names).
func ValidateWrite(obj Object) field.ErrorList {
	return validateObject(obj, true)
}

// Warnings lists fields the object sets that Strom stores but does not act
// on yet, one human-readable line each. The CLI prints them; nothing is
// dropped.
func Warnings(obj Object) []string {
	return warningsFor(obj)
}

// PrepareCreate fills in what a new object gets once the write path has
// given it its uid: a Job's generated selector and template labels.
func PrepareCreate(obj Object) {
	if j, ok := obj.(*batchv1.Job); ok {
		prepareJobCreate(j)
	}
}

// PrepareUpdate carries over, into an update or apply of cur, what the
// cluster generated and the incoming object leaves out (a Job's selector
// and template labels).
func PrepareUpdate(next, cur Object) {
	if j, ok := next.(*batchv1.Job); ok {
		if c, ok := cur.(*batchv1.Job); ok {
			prepareJobUpdate(j, c)
		}
	}
}

// ValidateUpdate checks the rules that depend on the stored object:
// fields that are immutable once created.
func ValidateUpdate(next, cur Object) field.ErrorList {
	if j, ok := next.(*batchv1.Job); ok {
		if c, ok := cur.(*batchv1.Job); ok {
			return validateJobUpdate(j, c)
		}
	}
	if ds, ok := next.(*appsv1.DaemonSet); ok {
		if c, ok := cur.(*appsv1.DaemonSet); ok {
			return validateDaemonSetUpdate(ds, c)
		}
	}
	if ss, ok := next.(*appsv1.StatefulSet); ok {
		if c, ok := cur.(*appsv1.StatefulSet); ok {
			return validateStatefulSetUpdate(ss, c)
		}
	}
	return nil
}
