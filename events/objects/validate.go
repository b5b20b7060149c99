package objects

import (
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
