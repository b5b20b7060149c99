package objects

import "testing"

// TestZeroObjects: Default and Validate cope with an empty object of every
// kind, which reports errors but must not panic.
func TestZeroObjects(t *testing.T) {
	for _, k := range All() {
		t.Run(k.Kind, func(t *testing.T) {
			obj := k.New()
			errs := Validate(obj)
			if len(errs) == 0 {
				t.Fatalf("empty %s validated without error", k.Kind)
			}
			Default(obj)
			_ = Validate(obj)
			_ = Warnings(obj)
		})
	}
}
