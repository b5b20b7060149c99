package apiserver

import (
	"context"

	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/projections"
)

// check (api.VerbCheck) validates the log (see projections.Check). Its
// Data is an api.CheckReport; problems are data, not an error, so the
// client prints them all.
func (c *Core) check(ctx context.Context, _ Caller, _ *api.Request) (*api.Response, error) {
	r, err := projections.Check(ctx, c.hist)
	if err != nil {
		return nil, err
	}
	return dataResponse(r)
}
