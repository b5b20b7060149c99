package app

import (
	"github.com/strom-project/strom/reconcilers/cronjobctl"
	"github.com/strom-project/strom/reconcilers/daemonsetctl"
	"github.com/strom-project/strom/reconcilers/deploymentctl"
	"github.com/strom-project/strom/reconcilers/endpoints"
	"github.com/strom-project/strom/reconcilers/gc"
	"github.com/strom-project/strom/reconcilers/jobctl"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/namespace"
	"github.com/strom-project/strom/reconcilers/nodeipam"
	"github.com/strom-project/strom/reconcilers/nodelifecycle"
	"github.com/strom-project/strom/reconcilers/podgc"
	"github.com/strom-project/strom/reconcilers/replicasetctl"
	"github.com/strom-project/strom/reconcilers/schedulerctl"
	"github.com/strom-project/strom/reconcilers/serviceaccount"
	"github.com/strom-project/strom/reconcilers/statefulsetctl"
	"github.com/strom-project/strom/reconcilers/svcalloc"
)

// ReconcilerOptions tune the built-in reconcilers (tests shorten the
// node lifecycle's timeouts).
type ReconcilerOptions struct {
	ClusterCIDR   string // default 10.42.0.0/16
	Scheduler     schedulerctl.Options
	NodeLifecycle nodelifecycle.Options
}

// builtinReconcilers lists the reconcilers stromd runs while it leads.
func builtinReconcilers(c *Config) func(env manager.Env) ([]manager.Reconciler, error) {
	return BuiltinReconcilers(ReconcilerOptions{ClusterCIDR: c.ClusterCIDR})
}

// BuiltinReconcilers returns the built-in reconcilers with options, for
// Config.Reconcilers.
func BuiltinReconcilers(o ReconcilerOptions) func(env manager.Env) ([]manager.Reconciler, error) {
	if o.ClusterCIDR == "" {
		o.ClusterCIDR = "10.42.0.0/16"
	}
	return func(env manager.Env) ([]manager.Reconciler, error) {
		ipam, err := nodeipam.New(env, o.ClusterCIDR, 24)
		if err != nil {
			return nil, err
		}
		return []manager.Reconciler{
			ipam,
			schedulerctl.New(env, o.Scheduler),
			replicasetctl.New(env),
			replicasetctl.NewReplicationControllers(env),
			deploymentctl.New(env),
			daemonsetctl.New(env),
			statefulsetctl.New(env),
			jobctl.New(env),
			cronjobctl.New(env),
			gc.New(env),
			namespace.New(env),
			serviceaccount.New(env),
			podgc.New(env),
			nodelifecycle.New(env, o.NodeLifecycle),
			endpoints.New(env),                    // services issue
			endpoints.NewSlices(env),              // EndpointSlices beside the Endpoints
			svcalloc.New(env, svcalloc.Options{}), // services issue
		}, nil
	}
}
