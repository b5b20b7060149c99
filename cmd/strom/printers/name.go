package printers

import (
	"fmt"
	"io"

	"github.com/strom-project/strom/events/objects"
)

// PrintName writes one "kind.group/name" line per object, as
// `kubectl get -o name`: "deployment.apps/web", "pod/web-abc".
func PrintName(w io.Writer, objs []objects.Object) error {
	for _, o := range objs {
		k, err := objects.KindOf(o)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s/%s\n", k.QualifiedName(), o.GetName()); err != nil {
			return fmt.Errorf("printing names: %w", err)
		}
	}
	return nil
}
