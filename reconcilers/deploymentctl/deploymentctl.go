package deploymentctl

import (
	"context"
	"errors"
	"fmt"

	"go.uber.org/zap"
	appsv1 "k8s.io/api/apps/v1"
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
	"github.com/strom-project/strom/reconcilers/deployment"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the Deployment controller writes as.
const Actor = "system:deployment-controller"

var rsKind = objects.ByKind("ReplicaSet")

// Reconciler runs Deployments.
type Reconciler struct {
	env manager.Env
	rec *ctlutil.Recorder
	log *zap.Logger
}

// New returns a Deployment controller.
func New(env manager.Env) *Reconciler {
	return &Reconciler{env: env, log: ctlutil.Log(env, "deployment"), rec: ctlutil.NewRecorder(env, Actor, "deployment-controller")}
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "deployment" }

// Workers: Deployments are independent.
func (r *Reconciler) Workers() int { return 4 }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "deployments") }

// Watches: the Deployment, its ReplicaSets, and their pods (Recreate waits
// for old pods to be gone).
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "deployments"},
		{Resource: "replicasets", Keys: r.rsKeys},
		{Resource: "pods", Keys: r.podKeys},
	}
}

func (r *Reconciler) rsKeys(ev *events.Event) []string {
	var rs appsv1.ReplicaSet
	obj, err := objects.DecodeStored(rsKind, ev.Object)
	if err != nil {
		return nil
	}
	rs = *obj.(*appsv1.ReplicaSet)
	if ref := metav1.GetControllerOfNoCopy(&rs); ref != nil && ref.Kind == "Deployment" {
		return []string{events.ObjectKey(rs.Namespace, ref.Name)}
	}
	return nil
}

// podKeys maps a pod deletion to its ReplicaSet's Deployment.
func (r *Reconciler) podKeys(ev *events.Event) []string {
	if ev.Type != events.TypeDeleted {
		return nil
	}
	pod, err := ctlutil.DecodeMeta(ev)
	if err != nil {
		return nil
	}
	ref := metav1.GetControllerOfNoCopy(pod)
	if ref == nil || ref.Kind != "ReplicaSet" {
		return nil
	}
	rs, ok, err := ctlutil.Get[appsv1.ReplicaSet](r.env.Store, "replicasets", pod.Namespace, ref.Name)
	if err != nil || !ok {
		return nil
	}
	if dref := metav1.GetControllerOfNoCopy(rs); dref != nil && dref.Kind == "Deployment" {
		return []string{events.ObjectKey(rs.Namespace, dref.Name)}
	}
	return nil
}

// Reconcile moves one Deployment a step forward.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	d, ok, err := ctlutil.Get[appsv1.Deployment](r.env.Store, "deployments", ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		return controller.Result{}, nil
	}
	rss, err := ctlutil.List[appsv1.ReplicaSet](r.env.Store, projections.Query{Resource: "replicasets", Namespace: ns,
		Fields: fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(d.UID))})
	if err != nil {
		return controller.Result{}, err
	}
	owned := rss[:0]
	for _, rs := range rss {
		if ref := metav1.GetControllerOfNoCopy(rs); ref != nil && ref.UID == d.UID {
			owned = append(owned, rs)
		}
	}
	if d.DeletionTimestamp == nil {
		for _, rs := range owned {
			if !settled(rs) {
				// The ReplicaSet controller has not carried out the
				// last step yet: planning on its stale status could
				// overshoot maxSurge or maxUnavailable in pods. Its
				// status update re-queues this Deployment.
				return controller.Result{}, nil
			}
		}
	}
	in := deployment.Input{Deployment: d, ReplicaSets: owned, Now: r.env.Clock.Now()}
	if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
		in.PodsRunning = r.podsRunning(owned)
	}
	acts, err := deployment.Plan(in)
	if err != nil {
		r.rec.Record(ctx, d, corev1.EventTypeWarning, "InvalidDeployment", err.Error())
		return controller.Result{}, controller.Terminal(err)
	}
	var seqs ctlutil.Seqs
	werr := r.apply(ctx, d, owned, acts, &seqs)
	if err := seqs.Wait(ctx, r.env.Store); err != nil {
		return controller.Result{}, err
	}
	if werr != nil {
		return controller.Result{}, werr
	}
	return controller.Result{RequeueAfter: acts.RequeueAfter}, nil
}

// podsRunning counts, per ReplicaSet, pods that exist and have not
// finished, terminating ones included.
func (r *Reconciler) podsRunning(rss []*appsv1.ReplicaSet) map[types.UID]int32 {
	out := make(map[types.UID]int32, len(rss))
	for _, rs := range rss {
		items, _ := r.env.Store.List(projections.Query{Resource: "pods", Namespace: rs.Namespace,
			Fields: fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(rs.UID))})
		for _, e := range items {
			obj, err := e.Object()
			if err != nil {
				continue
			}
			p := obj.(*corev1.Pod)
			if p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
				out[rs.UID]++
			}
		}
	}
	return out
}

// apply writes one step's actions.
func (r *Reconciler) apply(ctx context.Context, d *appsv1.Deployment, owned []*appsv1.ReplicaSet, acts deployment.Actions, seqs *ctlutil.Seqs) error {
	o := ctlutil.Opts(ctx, Actor)
	w := r.env.Writer
	key := d.Namespace + "/" + d.Name
	status := acts.Status
	var errs []error
	if acts.Create != nil {
		res, err := w.Create(ctx, acts.Create, o)
		switch {
		case events.IsAlreadyExists(err):
			// A ReplicaSet we do not own has the name: count the
			// collision so that the next plan picks another name.
			c := int32(1)
			if d.Status.CollisionCount != nil {
				c = *d.Status.CollisionCount + 1
			}
			status = *d.Status.DeepCopy()
			status.CollisionCount = &c
			errs = append(errs, fmt.Errorf("replicaset %s already exists and is not owned by deployment %s (collision count now %d)", acts.Create.Name, key, c))
		case err != nil:
			errs = append(errs, fmt.Errorf("creating replicaset %s: %w", acts.Create.Name, err))
		default:
			seqs.Add(res)
			r.rec.Eventf(ctx, d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled up replica set %s to %d", acts.Create.Name, replicas(acts.Create))
		}
	}
	before := map[string]int32{}
	for _, rs := range owned {
		before[rs.Name] = replicas(rs)
	}
	for _, rs := range acts.Update {
		res, err := w.Update(ctx, rs, o)
		if events.IsConflict(err) || events.IsNotFound(err) {
			continue // the new version re-queues the Deployment
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("updating replicaset %s: %w", rs.Name, err))
			continue
		}
		seqs.Add(res)
		if was, now := before[rs.Name], replicas(rs); was != now {
			verb := "up"
			if now < was {
				verb = "down"
			}
			r.rec.Eventf(ctx, d, corev1.EventTypeNormal, "ScalingReplicaSet", "Scaled %s replica set %s from %d to %d", verb, rs.Name, was, now)
		}
	}
	for _, rs := range acts.Delete {
		res, err := w.Delete(ctx, rsKind, rs.Namespace, rs.Name, events.DeleteOptions{Now: true}, o)
		if err != nil && !events.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting old replicaset %s: %w", rs.Name, err))
			continue
		}
		seqs.Add(res)
	}
	cur := d
	if acts.Annotations != nil && !equality.Semantic.DeepEqual(acts.Annotations, d.Annotations) {
		next := d.DeepCopy()
		next.Annotations = acts.Annotations
		res, err := w.Update(ctx, next, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
			return errors.Join(errs...) // re-planned on the new version
		case err != nil:
			errs = append(errs, fmt.Errorf("annotating deployment %s: %w", key, err))
		default:
			seqs.Add(res)
			cur = res.Object.(*appsv1.Deployment)
		}
	}
	if !equality.Semantic.DeepEqual(cur.Status, status) {
		next := cur.DeepCopy()
		next.Status = status
		res, err := w.UpdateStatus(ctx, next, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("updating status of deployment %s: %w", key, err))
		default:
			seqs.Add(res)
		}
	}
	return errors.Join(errs...)
}

// settled reports whether a ReplicaSet's status reflects its spec: the
// ReplicaSet controller has seen its latest generation and runs exactly
// spec.replicas non-terminating pods.
func settled(rs *appsv1.ReplicaSet) bool {
	return rs.Status.ObservedGeneration >= rs.Generation && rs.Status.Replicas == replicas(rs)
}

func replicas(rs *appsv1.ReplicaSet) int32 {
	if rs.Spec.Replicas == nil {
		return 1
	}
	return *rs.Spec.Replicas
}
