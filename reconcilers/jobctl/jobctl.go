package jobctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"go.uber.org/zap"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/job"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the Job controller writes as.
const Actor = "system:job-controller"

// Reconciler runs Jobs.
type Reconciler struct {
	env     manager.Env
	rec     *ctlutil.Recorder
	log     *zap.Logger
	mu      sync.Mutex // guards rnd, waiting
	rnd     *rand.Rand
	planner job.Planner
	// waiting holds, per Job waiting out a back-off or deadline, the cause
	// of the reconcile that asked to wait: the requeued reconcile has no
	// cause of its own, and its writes (a retry's pod) carry this one.
	waiting map[string]string
	cache   podCache
}

// New returns a Job controller.
func New(env manager.Env) *Reconciler {
	r := &Reconciler{env: env, log: ctlutil.Log(env, "job"), rnd: rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		rec: ctlutil.NewRecorder(env, Actor, "job-controller"), waiting: map[string]string{}, cache: podCache{jobs: map[types.UID]map[string]cachedPod{}}}
	r.planner = job.Planner{Rand: lockedRand{r}}
	return r
}

type lockedRand struct{ r *Reconciler }

func (l lockedRand) IntN(n int) int {
	l.r.mu.Lock()
	defer l.r.mu.Unlock()
	return l.r.rnd.IntN(n)
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "job" }

// Workers: Jobs are independent.
func (r *Reconciler) Workers() int { return 4 }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "jobs") }

// Watches: the Job and the pods it controls.
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{{Resource: "jobs"}, {Resource: "pods", Keys: podKeys}}
}

// podKeys maps a pod's event to its controlling Job (every pod event of
// the cluster comes through here: metadata only).
var podKeys = ctlutil.ControllerKeys(batchv1.SchemeGroupVersion.String(), "Job")

// Reconcile plans one Job and writes the plan.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	j, ok, err := ctlutil.Get[batchv1.Job](r.env.Store, "jobs", ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		uid := r.cache.forget(ns, name)
		return controller.Result{}, r.releaseOrphans(ctx, ns, name, uid)
	}
	pods, err := r.cache.pods(r.env.Store, j)
	if err != nil {
		return controller.Result{}, err
	}
	plan := r.planner.Plan(j, pods, r.env.Clock.Now())
	var seqs ctlutil.Seqs
	o := r.opts(ctx, key, plan.RequeueAfter > 0)
	if !equality.Semantic.DeepEqual(j.Status, plan.Status) {
		next := j.DeepCopy()
		next.Status = plan.Status
		res, err := r.env.Writer.UpdateStatus(ctx, next, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
			return controller.Result{}, nil // a newer version re-queues the key
		case err != nil:
			return controller.Result{}, fmt.Errorf("updating status of job %s: %w", key, err)
		}
		seqs.Add(res)
	}
	for _, e := range plan.Events {
		r.rec.Record(ctx, j, e.Type, e.Reason, e.Message)
	}
	werr := r.apply(ctx, j, plan, o, &seqs)
	if plan.DeleteJob {
		res, err := r.env.Writer.Delete(ctx, jobKind, ns, name, events.DeleteOptions{Precondition: j.ResourceVersion,
			Propagation: events.PropagationForeground}, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
		case err != nil:
			werr = errors.Join(werr, fmt.Errorf("deleting finished job %s: %w", key, err))
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

// opts are the write options of key's reconcile: the manager's cause,
// or, on a reconcile requeued after a wait, the cause of the one that
// asked to wait. wait says whether this reconcile asks to wait in turn.
func (r *Reconciler) opts(ctx context.Context, key string, wait bool) events.WriteOptions {
	o := ctlutil.Opts(ctx, Actor)
	r.mu.Lock()
	defer r.mu.Unlock()
	if o.Cause == "" {
		o.Cause = r.waiting[key]
	}
	if wait && o.Cause != "" {
		r.waiting[key] = o.Cause
	} else {
		delete(r.waiting, key)
	}
	return o
}

// releaseOrphans removes the tracking finalizer from the pods of a Job
// that is gone. With the Job's uid (this leader cached it) they are
// found through the owner index; without it every pod of the namespace
// that has owners is looked at, decoding its metadata only, and only
// those the Job controlled are decoded in full.
func (r *Reconciler) releaseOrphans(ctx context.Context, ns, name string, uid types.UID) error {
	q := projections.Query{Resource: "pods", Namespace: ns}
	if uid != "" {
		q.Fields = fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(uid))
	}
	entries, _ := r.env.Store.List(q)
	var pods []*corev1.Pod
	for _, e := range entries {
		if len(e.Owners) == 0 {
			continue
		}
		var m struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(e.Data, &m); err != nil {
			return fmt.Errorf("decoding the metadata of pod %s: %w", e.Key(), err)
		}
		ref := metav1.GetControllerOfNoCopy(&m.Metadata)
		if ref == nil || ref.Kind != "Job" || ref.Name != name || !slices.Contains(m.Metadata.Finalizers, batchv1.JobTrackingFinalizer) {
			continue
		}
		obj, err := e.Object()
		if err != nil {
			return fmt.Errorf("decoding pod %s: %w", e.Key(), err)
		}
		pods = append(pods, obj.(*corev1.Pod))
	}
	var seqs ctlutil.Seqs
	var errs []error
	for _, pod := range pods {
		ref := metav1.GetControllerOfNoCopy(pod)
		if ref == nil || ref.Kind != "Job" || ref.Name != name {
			continue
		}
		if res, err := r.unfinalize(ctx, pod); err != nil {
			errs = append(errs, err)
		} else {
			seqs.Add(res)
		}
	}
	return errors.Join(append(errs, seqs.Wait(ctx, r.env.Store))...)
}

func (r *Reconciler) unfinalize(ctx context.Context, pod *corev1.Pod) (*events.Result, error) {
	keep := pod.Finalizers[:0:0]
	for _, f := range pod.Finalizers {
		if f != batchv1.JobTrackingFinalizer {
			keep = append(keep, f)
		}
	}
	if len(keep) == len(pod.Finalizers) {
		return nil, nil
	}
	next := pod.DeepCopy()
	next.Finalizers = keep
	return r.update(ctx, next, ctlutil.Opts(ctx, Actor))
}

// update writes a pod (finalizers) with its resourceVersion as a
// precondition: a pod that changed is planned again on its next version.
func (r *Reconciler) update(ctx context.Context, pod *corev1.Pod, o events.WriteOptions) (*events.Result, error) {
	res, err := r.env.Writer.Update(ctx, pod, o)
	if events.IsConflict(err) || events.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("removing the tracking finalizer of pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return res, nil
}

// apply writes a plan's pod changes, up to 16 at a time: finalizer
// removals (their uids are in the status just written), then creations
// and deletions.
func (r *Reconciler) apply(ctx context.Context, j *batchv1.Job, plan job.Plan, o events.WriteOptions, seqs *ctlutil.Seqs) error {
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
	for _, p := range plan.RemoveFinalizers {
		do(func() (*events.Result, error) { return r.update(ctx, p, o) })
	}
	wg.Wait()
	for _, p := range plan.Create {
		do(func() (*events.Result, error) {
			res, err := w.Create(ctx, p, o)
			if err != nil {
				r.rec.Eventf(ctx, j, corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
				return nil, fmt.Errorf("creating pod %s for job %s: %w", p.Name, j.Name, err)
			}
			r.rec.Eventf(ctx, j, corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %s", p.Name)
			return res, nil
		})
	}
	for _, p := range plan.Delete {
		do(func() (*events.Result, error) {
			res, err := w.Delete(ctx, podKind, p.Namespace, p.Name, events.DeleteOptions{}, o)
			if events.IsNotFound(err) {
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err)
			}
			r.rec.Eventf(ctx, j, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %s", p.Name)
			return res, nil
		})
	}
	wg.Wait()
	if n := len(plan.Create) + len(plan.Delete); n > 0 {
		r.log.Debug("synced", zap.String("job", j.Namespace+"/"+j.Name), zap.Int("created", len(plan.Create)), zap.Int("deleted", len(plan.Delete)))
	}
	return errors.Join(errs...)
}

var (
	podKind = objects.ByKind("Pod")
	jobKind = objects.ByKind("Job")
)
