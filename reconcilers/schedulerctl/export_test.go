package schedulerctl

import "github.com/strom-project/strom/events"

// OnNode exposes onNode to the external tests.
func (r *Reconciler) OnNode(ev *events.Event) []string { return r.onNode(ev) }
