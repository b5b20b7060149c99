package objects

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
)

// loadValid decodes testdata/valid/<singular>.yaml for a kind.
func loadValid(t *testing.T, k *Kind) Object {
	t.Helper()
	path := filepath.Join("testdata", "valid", k.Singular+".yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("every kind needs a valid manifest: %v", err)
	}
	obj, got, err := Decode(data)
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	if got != k {
		t.Fatalf("%s decoded as %s, want %s", path, got.Kind, k.Kind)
	}
	return obj
}

// TestValidManifests: a realistic manifest of every kind decodes, defaults
// and validates with no error.
func TestValidManifests(t *testing.T) {
	for _, k := range All() {
		t.Run(k.Kind, func(t *testing.T) {
			obj := loadValid(t, k)
			Default(obj)
			if errs := Validate(obj); len(errs) > 0 {
				t.Fatalf("valid %s rejected:\n%s", k.Kind, errs.ToAggregate())
			}
		})
	}
}

// TestNoStrayValidManifests: every file in testdata/valid is named after
// a kind, so none is silently left out of TestValidManifests.
func TestNoStrayValidManifests(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(All()) {
		t.Errorf("%d files in testdata/valid, want one per kind (%d)", len(files), len(All()))
	}
	for _, f := range files {
		singular := strings.TrimSuffix(filepath.Base(f), ".yaml")
		if k, err := Lookup(singular); err != nil || k.Singular != singular {
			t.Errorf("%s is not named after a kind's singular name", f)
		}
	}
}

// TestDefaultIdempotent: defaulting twice gives what defaulting once
// gives, for every kind.
func TestDefaultIdempotent(t *testing.T) {
	for _, k := range All() {
		t.Run(k.Kind, func(t *testing.T) {
			obj := loadValid(t, k)
			Default(obj)
			once := obj.DeepCopyObject()
			Default(obj)
			if !equality.Semantic.DeepEqual(once, obj) {
				t.Fatalf("second Default changed the %s:\nonce:  %+v\ntwice: %+v", k.Kind, once, obj)
			}
		})
	}
}
