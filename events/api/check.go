package api

import (
	"context"

	"github.com/strom-project/strom/projections"
)

// The check verb validates the log (see projections.Check). Its Data is a
// projections.CheckReport; problems are data, not an error, so the client
// prints them all.
func init() { registerHistoryVerb(VerbCheck, checkVerb) }

func checkVerb(ctx context.Context, h projections.History, _ *Env, _ *Request) (*Response, error) {
	r, err := projections.Check(ctx, h)
	if err != nil {
		return nil, err
	}
	return dataResponse(r)
}
