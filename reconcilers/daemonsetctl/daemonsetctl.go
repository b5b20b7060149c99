package daemonsetctl

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/daemonset"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the DaemonSet controller writes as.
const Actor = "system:daemonset-controller"

// Reconciler runs DaemonSets.
type Reconciler struct {
	env     manager.Env
	rec     *ctlutil.Recorder
	log     *zap.Logger
	mu      sync.Mutex // guards rnd
	rnd     *rand.Rand
	planner daemonset.Planner
	backoff failedBackoff
	nodes   nodeFilter
}

// New returns a DaemonSet controller.
func New(env manager.Env) *Reconciler {
	r := &Reconciler{env: env, log: ctlutil.Log(env, "daemonset"), rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		rec: ctlutil.NewRecorder(env, Actor, "daemonset-controller")}
	r.planner = daemonset.Planner{Rand: lockedRand{r}}
	return r
}

type lockedRand struct{ r *Reconciler }

func (l lockedRand) IntN(n int) int {
	l.r.mu.Lock()
	defer l.r.mu.Unlock()
	return l.r.rnd.IntN(n)
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "daemonset" }

// Workers: DaemonSets are independent.
func (r *Reconciler) Workers() int { return 2 }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "daemonsets") }

// Watches: the sets, every node (a node change may concern any set), and
// the pods and revisions a set controls.
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "daemonsets"},
		{Resource: "nodes", Keys: r.nodeKeys},
		{Resource: "pods", Keys: ownerKeys},
		{Resource: "controllerrevisions", Keys: ownerKeys},
	}
}

// nodeKeys maps a node's event to every DaemonSet when it changes where
// daemons may run.
func (r *Reconciler) nodeKeys(ev *events.Event) []string {
	if !r.nodes.changed(ev) {
		return nil
	}
	return r.Keys()
}

// ownerKeys maps an object's event to its controlling DaemonSet.
var ownerKeys = ctlutil.ControllerKeys(appsv1.SchemeGroupVersion.String(), "DaemonSet")

// Reconcile plans one DaemonSet and writes the plan.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	ds, ok, err := ctlutil.Get[appsv1.DaemonSet](r.env.Store, "daemonsets", ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		return controller.Result{}, nil // its pods and revisions are the garbage collector's
	}
	o := ctlutil.Opts(ctx, Actor)
	var seqs ctlutil.Seqs
	hist, done, err := r.revisions(ctx, ds, o, &seqs)
	if err != nil || done {
		return controller.Result{}, errors.Join(err, seqs.Wait(ctx, r.env.Store))
	}
	nodes, err := ctlutil.List[corev1.Node](r.env.Store, projections.Query{Resource: "nodes"})
	if err != nil {
		return controller.Result{}, err
	}
	pods, err := r.pods(ds)
	if err != nil {
		return controller.Result{}, err
	}
	now := r.env.Clock.Now()
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	plan, err := r.planner.Plan(daemonset.Input{DaemonSet: ds, Nodes: nodes, Pods: pods, Hash: hist.hash,
		CollisionCount: ds.Status.CollisionCount, FailedBackoff: r.backoff.until(ds, names, now), Now: now})
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	var werr error
	if ds.DeletionTimestamp == nil { // a set being deleted only reports
		for _, e := range plan.Events {
			r.rec.Record(ctx, ds, e.Type, e.Reason, e.Message)
		}
		werr = r.apply(ctx, ds, plan, o, &seqs)
		for _, n := range plan.FailedDeleted {
			r.backoff.next(ds, n, now)
		}
	}
	if !equality.Semantic.DeepEqual(ds.Status, plan.Status) {
		next := ds.DeepCopy()
		next.Status = plan.Status
		res, err := r.env.Writer.UpdateStatus(ctx, next, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
			// a newer version is on its way and re-queues the key
		case err != nil:
			werr = errors.Join(werr, fmt.Errorf("updating status of daemonset %s: %w", key, err))
		default:
			seqs.Add(res)
		}
	}
	werr = errors.Join(werr, r.truncate(ctx, ds, hist, pods, o, &seqs))
	if err := seqs.Wait(ctx, r.env.Store); err != nil {
		return controller.Result{}, err
	}
	if werr != nil {
		return controller.Result{}, werr
	}
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// pods returns the pods ds controls.
func (r *Reconciler) pods(ds *appsv1.DaemonSet) ([]*corev1.Pod, error) {
	items, err := ctlutil.List[corev1.Pod](r.env.Store, projections.Query{Resource: "pods", Namespace: ds.Namespace,
		Fields: uidSelector(ds.UID)})
	if err != nil {
		return nil, err
	}
	out := items[:0]
	for _, p := range items {
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.UID == ds.UID {
			out = append(out, p)
		}
	}
	return out, nil
}

// apply writes a plan's pod creations and deletions, up to 16 at a time.
func (r *Reconciler) apply(ctx context.Context, ds *appsv1.DaemonSet, plan daemonset.Plan, o events.WriteOptions, seqs *ctlutil.Seqs) error {
	w := r.env.Writer
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	do := func(f func() (*events.Result, error)) {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, err := f()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			seqs.Add(res)
		}()
	}
	for _, p := range plan.Create {
		do(func() (*events.Result, error) {
			res, err := w.Create(ctx, p, o)
			if err != nil {
				r.rec.Eventf(ctx, ds, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				return nil, fmt.Errorf("creating pod %s for daemonset %s/%s on node %s: %w", p.Name, ds.Namespace, ds.Name, daemonset.TargetNode(p), err)
			}
			r.rec.Eventf(ctx, ds, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", p.Name)
			return res, nil
		})
	}
	for _, p := range plan.Delete {
		do(func() (*events.Result, error) {
			res, err := w.Delete(ctx, podKind, p.Namespace, p.Name, events.DeleteOptions{}, o) // graceful
			if events.IsNotFound(err) {
				return nil, nil
			}
			if err != nil {
				r.rec.Eventf(ctx, ds, corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
				return nil, fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err)
			}
			r.rec.Eventf(ctx, ds, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			return res, nil
		})
	}
	wg.Wait()
	if n := len(plan.Create) + len(plan.Delete); n > 0 {
		r.log.Debug("synced", zap.String("daemonset", ds.Namespace+"/"+ds.Name), zap.Int("created", len(plan.Create)), zap.Int("deleted", len(plan.Delete)))
	}
	return errors.Join(errs...)
}

var podKind = objects.ByKind("Pod")
