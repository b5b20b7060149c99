package replicasetctl

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
	"k8s.io/apimachinery/pkg/fields"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/replicaset"
)

// Actor is who the ReplicaSet controller writes as.
const Actor = "system:replicaset-controller"

// Reconciler runs ReplicaSets.
type Reconciler struct {
	env     manager.Env
	rec     *ctlutil.Recorder
	log     *zap.Logger
	mu      sync.Mutex // guards rnd
	rnd     *rand.Rand
	planner replicaset.Planner
	k       kindOps
	actor   string
}

// New returns a ReplicaSet controller.
func New(env manager.Env) *Reconciler {
	return newReconciler(env, replicaSetOps, Actor, "replicaset-controller")
}

func newReconciler(env manager.Env, k kindOps, actor, component string) *Reconciler {
	r := &Reconciler{env: env, log: ctlutil.Log(env, k.name), rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		rec: ctlutil.NewRecorder(env, actor, component), k: k, actor: actor}
	r.planner = replicaset.Planner{Rand: lockedRand{r}, Owner: k.owner}
	return r
}

type lockedRand struct{ r *Reconciler }

func (l lockedRand) IntN(n int) int {
	l.r.mu.Lock()
	defer l.r.mu.Unlock()
	return l.r.rnd.IntN(n)
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return r.k.name }

// Workers: ReplicaSets are independent.
func (r *Reconciler) Workers() int { return 4 }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, r.k.resource) }

// Watches: the set itself and its pods (the controller owner, or, for an
// orphan, every set of its namespace that selects it).
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{{Resource: r.k.resource}, {Resource: "pods", Keys: r.podKeys}}
}

func (r *Reconciler) podKeys(ev *events.Event) []string {
	pod, err := ctlutil.DecodeMeta(ev) // every pod event comes here: metadata only
	if err != nil {
		return nil
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		if ref.Kind != r.k.kind {
			return nil
		}
		return []string{events.ObjectKey(pod.Namespace, ref.Name)}
	}
	if ev.Type == events.TypeDeleted {
		return nil
	}
	rss, err := r.k.list(r.env.Store, pod.Namespace)
	if err != nil {
		return nil
	}
	var keys []string
	for _, rs := range rss {
		sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector)
		if err == nil && !sel.Empty() && sel.Matches(labelSet(pod.Labels)) {
			keys = append(keys, events.ObjectKey(rs.Namespace, rs.Name))
		}
	}
	return keys
}

// Reconcile plans one ReplicaSet and writes the plan.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	rs, orig, ok, err := r.k.get(r.env.Store, ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		return controller.Result{}, nil // its pods are the garbage collector's
	}
	pods, err := r.candidates(rs)
	if err != nil {
		return controller.Result{}, err
	}
	plan, err := r.planner.Plan(rs, pods, r.env.Clock.Now())
	if err != nil {
		r.rec.Record(ctx, orig, corev1.EventTypeWarning, "InvalidSelector", err.Error())
		return controller.Result{}, controller.Terminal(err)
	}
	var seqs ctlutil.Seqs
	werr := r.apply(ctx, rs, orig, plan, &seqs)
	if !equality.Semantic.DeepEqual(rs.Status, plan.Status) {
		next := r.k.withStatus(orig, plan.Status)
		res, err := r.env.Writer.UpdateStatus(ctx, next, ctlutil.Opts(ctx, r.actor))
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
			// a newer version is on its way and re-queues the key
		case err != nil:
			werr = errors.Join(werr, fmt.Errorf("updating status of %s %s: %w", r.k.name, key, err))
		default:
			seqs.Add(res)
		}
	}
	if err := seqs.Wait(ctx, r.env.Store); err != nil {
		return controller.Result{}, err
	}
	if werr != nil {
		return controller.Result{}, werr
	}
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// candidates returns the pods of rs's namespace that its selector matches
// or that it owns (so that it can release them).
func (r *Reconciler) candidates(rs *appsv1.ReplicaSet) ([]*corev1.Pod, error) {
	st := r.env.Store
	q := projections.Query{Resource: "pods", Namespace: rs.Namespace}
	if sel, err := metav1.LabelSelectorAsSelector(rs.Spec.Selector); err == nil && !sel.Empty() {
		q.Labels = sel
	}
	items, _ := st.List(q)
	owned, _ := st.List(projections.Query{Resource: "pods", Namespace: rs.Namespace,
		Fields: fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(rs.UID))})
	seen := make(map[string]bool, len(items))
	pods := make([]*corev1.Pod, 0, len(items)+len(owned))
	for _, e := range append(items, owned...) {
		if seen[e.Name] {
			continue
		}
		seen[e.Name] = true
		obj, err := e.Object()
		if err != nil {
			return nil, fmt.Errorf("decoding pod %s: %w", e.Key(), err)
		}
		pods = append(pods, obj.(*corev1.Pod))
	}
	return pods, nil
}

// apply writes a plan's pod changes, up to 16 at a time.
func (r *Reconciler) apply(ctx context.Context, rs *appsv1.ReplicaSet, orig objects.Object, plan replicaset.Plan, seqs *ctlutil.Seqs) error {
	o := ctlutil.Opts(ctx, r.actor)
	var mu sync.Mutex
	var errs []error
	var created, deleted int
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	do := func(f func() (*events.Result, error), ok func()) {
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
			if ok != nil {
				ok()
			}
		}()
	}
	w := r.env.Writer
	for _, p := range plan.Create {
		p := p
		do(func() (*events.Result, error) {
			res, err := w.Create(ctx, p, o)
			if err != nil {
				r.rec.Eventf(ctx, orig, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				return nil, fmt.Errorf("creating pod %s for %s %s: %w", p.Name, r.k.name, rs.Name, err)
			}
			r.rec.Eventf(ctx, orig, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", p.Name)
			return res, nil
		}, func() { created++ })
	}
	for _, p := range plan.Delete {
		p := p
		do(func() (*events.Result, error) {
			res, err := w.Delete(ctx, podKind, p.Namespace, p.Name, events.DeleteOptions{}, o) // graceful
			if events.IsNotFound(err) {
				res, err = nil, nil
			} else if err != nil {
				err = fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err)
			}
			if err == nil {
				r.rec.Eventf(ctx, orig, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			}
			return res, err
		}, func() { deleted++ })
	}
	for _, p := range append(append([]*corev1.Pod(nil), plan.Adopt...), plan.Release...) {
		p := p
		do(func() (*events.Result, error) {
			res, err := w.Update(ctx, p, o)
			if events.IsConflict(err) || events.IsNotFound(err) {
				return nil, nil // re-planned on the pod's next version
			}
			if err != nil {
				return nil, fmt.Errorf("updating owner of pod %s: %w", p.Name, err)
			}
			return res, nil
		}, nil)
	}
	wg.Wait()
	if created+deleted > 0 {
		r.log.Debug("synced", zap.String(r.k.name, rs.Namespace+"/"+rs.Name), zap.Int("created", created), zap.Int("deleted", deleted))
	}
	return errors.Join(errs...)
}

// podKind is the Pod kind.
var podKind = objects.ByKind("Pod")
