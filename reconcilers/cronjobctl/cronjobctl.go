package cronjobctl

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/cronjob"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the CronJob controller writes as.
const Actor = "system:cronjob-controller"

// Reconciler runs CronJobs.
type Reconciler struct {
	env     manager.Env
	rec     *ctlutil.Recorder
	log     *zap.Logger
	planner cronjob.Planner
	mu      sync.Mutex // guards waiting
	// waiting holds, per CronJob waiting for its next schedule, the cause
	// of the reconcile that asked to wait: the Job a schedule starts is
	// written with that cause (the CronJob's write, typically).
	waiting map[string]string
}

// New returns a CronJob controller; schedules without a time zone are in
// the process's local zone, as in Kubernetes.
func New(env manager.Env) *Reconciler {
	return &Reconciler{env: env, log: ctlutil.Log(env, "cronjob"), planner: cronjob.Planner{Local: time.Local},
		rec: ctlutil.NewRecorder(env, Actor, "cronjob-controller"), waiting: map[string]string{}}
}

// Name implements manager.Reconciler.
// Workers implements the manager's per-reconciler worker count. A
// reconcile mostly waits (its writes, then the view applying them), and
// a minute when a thousand CronJobs are due is a thousand of them at
// once: 32 workers start them within a second on two cores
// (kube-controller-manager's --concurrent-cron-job-syncs is 5).
func (r *Reconciler) Workers() int { return 32 }

func (r *Reconciler) Name() string { return "cronjob" }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "cronjobs") }

// Watches: the CronJob and the Jobs it controls.
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{{Resource: "cronjobs"}, {Resource: "jobs", Keys: jobKeys}}
}

// jobKeys maps a Job's event to its controlling CronJob.
var jobKeys = ctlutil.ControllerKeys(batchv1.SchemeGroupVersion.String(), "CronJob")

// Reconcile plans one CronJob and writes the plan.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	cj, ok, err := ctlutil.Get[batchv1.CronJob](r.env.Store, "cronjobs", ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		r.opts(ctx, key, false)
		return controller.Result{}, nil // the garbage collector removes its Jobs
	}
	jobs, err := r.jobs(cj)
	if err != nil {
		return controller.Result{}, err
	}
	plan := r.planner.Plan(cj, jobs, r.env.Clock.Now())
	o := r.opts(ctx, key, plan.RequeueAfter > 0)
	for _, e := range plan.Events {
		r.rec.Record(ctx, cj, e.Type, e.Reason, e.Message)
	}
	var seqs ctlutil.Seqs
	if err := r.delete(ctx, cj, plan.Delete[:plan.Replace], o, &seqs); err != nil {
		// Retried from the start: a Job to replace that is still there
		// must not run beside the new one.
		return controller.Result{}, errors.Join(err, seqs.Wait(ctx, r.env.Store))
	}
	var werr error
	status := plan.Status
	if plan.Create != nil {
		created, err := r.create(ctx, cj, plan.Create, o, &seqs)
		switch {
		case err != nil:
			werr = errors.Join(werr, err)
		case created != nil:
			status = plan.Created(created)
		}
	}
	if !equality.Semantic.DeepEqual(cj.Status, status) {
		next := cj.DeepCopy()
		next.Status = status
		res, err := r.env.Writer.UpdateStatus(ctx, next, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
			// A newer version re-queues the key; a Job just created is
			// found under its name then.
		case err != nil:
			werr = errors.Join(werr, fmt.Errorf("updating status of cronjob %s: %w", key, err))
		default:
			seqs.Add(res)
		}
	}
	if err := r.delete(ctx, cj, plan.Delete[plan.Replace:], o, &seqs); err != nil {
		werr = errors.Join(werr, err)
	}
	if err := seqs.Wait(ctx, r.env.Store); err != nil {
		return controller.Result{}, err
	}
	if werr != nil {
		return controller.Result{}, werr
	}
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// jobs returns the Jobs cj controls.
func (r *Reconciler) jobs(cj *batchv1.CronJob) ([]*batchv1.Job, error) {
	all, err := ctlutil.List[batchv1.Job](r.env.Store, projections.Query{Resource: "jobs", Namespace: cj.Namespace,
		Fields: fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(cj.UID))})
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, j := range all {
		if metav1.IsControlledBy(j, cj) {
			out = append(out, j)
		}
	}
	return out, nil
}

// create starts the scheduled Job. It returns the Job, or, if a Job of
// that name exists already, that Job if cj controls it (the same
// schedule's, from an earlier leader) and nil otherwise.
func (r *Reconciler) create(ctx context.Context, cj *batchv1.CronJob, j *batchv1.Job, o events.WriteOptions, seqs *ctlutil.Seqs) (*batchv1.Job, error) {
	res, err := r.env.Writer.Create(ctx, j, o)
	if events.IsAlreadyExists(err) {
		got, err := r.env.Writer.Get(ctx, jobKind, j.Namespace, j.Name)
		if err != nil {
			return nil, fmt.Errorf("reading job %s/%s: %w", j.Namespace, j.Name, err)
		}
		existing, ok := got.(*batchv1.Job)
		if !ok || !metav1.IsControlledBy(existing, cj) {
			return nil, nil
		}
		r.log.Info("job already exists", zap.String("cronjob", cj.Namespace+"/"+cj.Name), zap.String("job", j.Name))
		return existing, nil
	}
	if err != nil {
		r.rec.Eventf(ctx, cj, corev1.EventTypeWarning, "FailedCreate", "Error creating job: %v", err)
		return nil, fmt.Errorf("creating job %s for cronjob %s/%s: %w", j.Name, cj.Namespace, cj.Name, err)
	}
	seqs.Add(res)
	created, ok := res.Object.(*batchv1.Job)
	if !ok {
		return nil, fmt.Errorf("creating job %s: unexpected type %T", j.Name, res.Object)
	}
	r.rec.Eventf(ctx, cj, corev1.EventTypeNormal, "SuccessfulCreate", "Created job %s", created.Name)
	return created, nil
}

// delete deletes Jobs with background propagation; one already gone is
// deleted.
func (r *Reconciler) delete(ctx context.Context, cj *batchv1.CronJob, jobs []*batchv1.Job, o events.WriteOptions, seqs *ctlutil.Seqs) error {
	var errs []error
	for _, j := range jobs {
		res, err := r.env.Writer.Delete(ctx, jobKind, j.Namespace, j.Name,
			events.DeleteOptions{Propagation: events.PropagationBackground}, o)
		switch {
		case events.IsNotFound(err):
		case err != nil:
			r.rec.Eventf(ctx, cj, corev1.EventTypeWarning, "FailedDelete", "Deleted job: %v", err)
			errs = append(errs, fmt.Errorf("deleting job %s/%s: %w", j.Namespace, j.Name, err))
		default:
			seqs.Add(res)
			r.rec.Eventf(ctx, cj, corev1.EventTypeNormal, "SuccessfulDelete", "Deleted job %s", j.Name)
		}
	}
	return errors.Join(errs...)
}

// opts are the write options of key's reconcile: the manager's cause,
// or, on a reconcile requeued for a schedule, the cause of the one that
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

var jobKind = objects.ByKind("Job")
