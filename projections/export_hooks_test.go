package projections

import (
	"context"
	"io"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/strom-project/strom/events"
)

// ExportWithPullReader is Export reading with the ordered pull consumer
// instead of readRange, for tests that compare the two.
func ExportWithPullReader(ctx context.Context, js jetstream.JetStream, w io.Writer, o ExportOptions) (*events.ExportHeader, error) {
	o.pullReader = true
	return Export(ctx, js, w, o)
}
