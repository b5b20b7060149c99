package app

import (
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/nodeipam"
)

// builtinReconcilers lists the reconcilers stromd runs while it leads.
func builtinReconcilers(c *Config) func(env manager.Env) ([]manager.Reconciler, error) {
	return func(env manager.Env) ([]manager.Reconciler, error) {
		ipam, err := nodeipam.New(env, c.ClusterCIDR, 24)
		if err != nil {
			return nil, err
		}
		return []manager.Reconciler{ipam}, nil
	}
}
