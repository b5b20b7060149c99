package statefulsetctl

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

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
	"github.com/strom-project/strom/reconcilers/statefulset"
)

// Actor is who the StatefulSet controller writes as.
const Actor = "system:statefulset-controller"

// Reconciler runs StatefulSets.
type Reconciler struct {
	env manager.Env
	rec *ctlutil.Recorder
	log *zap.Logger
}

// New returns a StatefulSet controller.
func New(env manager.Env) *Reconciler {
	return &Reconciler{env: env, log: ctlutil.Log(env, "statefulset"),
		rec: ctlutil.NewRecorder(env, Actor, "statefulset-controller")}
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "statefulset" }

// Workers: StatefulSets are independent.
func (r *Reconciler) Workers() int { return 2 }

// Keys implements manager.Reconciler.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "statefulsets") }

// Watches: the sets and the pods and revisions a set controls.
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "statefulsets"},
		{Resource: "pods", Keys: ownerKeys},
		{Resource: "controllerrevisions", Keys: ownerKeys},
	}
}

// ownerKeys maps an object's event to its controlling StatefulSet.
var ownerKeys = ctlutil.ControllerKeys(appsv1.SchemeGroupVersion.String(), "StatefulSet")

// Reconcile plans one StatefulSet and writes the plan.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, name := events.SplitObjectKey(key)
	ss, ok, err := ctlutil.Get[appsv1.StatefulSet](r.env.Store, "statefulsets", ns, name)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		return controller.Result{}, nil // its pods and revisions are the garbage collector's
	}
	o := ctlutil.Opts(ctx, Actor)
	var seqs ctlutil.Seqs
	h, done, err := r.revisions(ctx, ss, o, &seqs)
	if err != nil || done {
		return controller.Result{}, errors.Join(err, seqs.Wait(ctx, r.env.Store))
	}
	pods, err := r.pods(ss)
	if err != nil {
		return controller.Result{}, err
	}
	claims, err := r.claims(ss, pods)
	if err != nil {
		return controller.Result{}, err
	}
	plan := statefulset.Sync(statefulset.Input{Set: ss, Pods: pods, Claims: claims, Current: h.current, Update: h.update,
		CollisionCount: ss.Status.CollisionCount, Now: r.env.Clock.Now()})
	var werr error
	if ss.DeletionTimestamp == nil { // a set being deleted only reports
		werr = r.apply(ctx, ss, plan, o, &seqs)
	}
	if !equality.Semantic.DeepEqual(ss.Status, plan.Status) {
		next := ss.DeepCopy()
		next.Status = plan.Status
		res, err := r.env.Writer.UpdateStatus(ctx, next, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
			// a newer version is on its way and re-queues the key
		case err != nil:
			werr = errors.Join(werr, fmt.Errorf("updating status of statefulset %s: %w", key, err))
		default:
			seqs.Add(res)
		}
	}
	werr = errors.Join(werr, r.truncate(ctx, ss, h, pods, o, &seqs))
	if err := seqs.Wait(ctx, r.env.Store); err != nil {
		return controller.Result{}, err
	}
	if werr != nil {
		return controller.Result{}, werr
	}
	return controller.Result{RequeueAfter: plan.RequeueAfter}, nil
}

// pods returns the pods ss controls.
func (r *Reconciler) pods(ss *appsv1.StatefulSet) ([]*corev1.Pod, error) {
	items, err := ctlutil.List[corev1.Pod](r.env.Store, projections.Query{Resource: "pods", Namespace: ss.Namespace,
		Fields: fields.OneTermEqualSelector("metadata.ownerReferences.uid", string(ss.UID))})
	if err != nil {
		return nil, err
	}
	out := items[:0]
	for _, p := range items {
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && ref.UID == ss.UID {
			out = append(out, p)
		}
	}
	return out, nil
}

// claims reads the claims of every ordinal in range and of every pod.
func (r *Reconciler) claims(ss *appsv1.StatefulSet, pods []*corev1.Pod) (map[string]*corev1.PersistentVolumeClaim, error) {
	out := map[string]*corev1.PersistentVolumeClaim{}
	if len(ss.Spec.VolumeClaimTemplates) == 0 {
		return out, nil
	}
	ords := map[int]bool{}
	first, n := 0, 1
	if ss.Spec.Ordinals != nil {
		first = int(ss.Spec.Ordinals.Start)
	}
	if ss.Spec.Replicas != nil {
		n = int(*ss.Spec.Replicas)
	}
	for o := first; o < first+n; o++ {
		ords[o] = true
	}
	for _, p := range pods {
		if o := statefulset.Ordinal(ss, p); o >= 0 {
			ords[o] = true
		}
	}
	for o := range ords {
		for _, c := range ss.Spec.VolumeClaimTemplates {
			name := statefulset.ClaimName(c.Name, ss, o)
			pvc, ok, err := ctlutil.Get[corev1.PersistentVolumeClaim](r.env.Store, "persistentvolumeclaims", ss.Namespace, name)
			if err != nil {
				return nil, err
			}
			if ok {
				out[name] = pvc
			}
		}
	}
	return out, nil
}

// apply writes a plan: claims first (a pod is not made without its
// claims), then the pods, as Kubernetes' controller does.
func (r *Reconciler) apply(ctx context.Context, ss *appsv1.StatefulSet, plan statefulset.Plan, o events.WriteOptions, seqs *ctlutil.Seqs) error {
	w := r.env.Writer
	var errs []error
	failedClaims := map[string]bool{}
	for _, c := range plan.CreateClaims {
		res, err := w.Create(ctx, c, o)
		pod := podOfClaim(ss, c.Name)
		switch {
		case events.IsAlreadyExists(err):
		case err != nil:
			failedClaims[pod] = true
			r.rec.Eventf(ctx, ss, corev1.EventTypeWarning, "FailedCreate", "create Claim %s for Pod %s in StatefulSet %s failed error: %v", c.Name, pod, ss.Name, err)
			errs = append(errs, fmt.Errorf("creating claim %s/%s: %w", c.Namespace, c.Name, err))
		default:
			seqs.Add(res)
			r.rec.Eventf(ctx, ss, corev1.EventTypeNormal, "SuccessfulCreate", "create Claim %s Pod %s in StatefulSet %s success", c.Name, pod, ss.Name)
		}
	}
	for _, c := range plan.UpdateClaims {
		res, err := w.Update(ctx, c, o)
		switch {
		case events.IsConflict(err) || events.IsNotFound(err):
		case err != nil:
			errs = append(errs, fmt.Errorf("updating claim %s/%s: %w", c.Namespace, c.Name, err))
		default:
			seqs.Add(res)
		}
	}
	for _, p := range plan.Create {
		if failedClaims[p.Name] {
			continue
		}
		res, err := w.Create(ctx, p, o)
		switch {
		case events.IsAlreadyExists(err):
			// the old pod of that name is still going; its deletion
			// re-queues the set
		case err != nil:
			r.rec.Eventf(ctx, ss, corev1.EventTypeWarning, "FailedCreate", "create Pod %s in StatefulSet %s failed error: %v", p.Name, ss.Name, err)
			errs = append(errs, fmt.Errorf("creating pod %s/%s: %w", p.Namespace, p.Name, err))
		default:
			seqs.Add(res)
			r.rec.Eventf(ctx, ss, corev1.EventTypeNormal, "SuccessfulCreate", "create Pod %s in StatefulSet %s successful", p.Name, ss.Name)
		}
	}
	for _, p := range plan.Delete {
		res, err := w.Delete(ctx, podKind, p.Namespace, p.Name, events.DeleteOptions{}, o) // graceful
		switch {
		case events.IsNotFound(err):
		case err != nil:
			r.rec.Eventf(ctx, ss, corev1.EventTypeWarning, "FailedDelete", "delete Pod %s in StatefulSet %s failed error: %v", p.Name, ss.Name, err)
			errs = append(errs, fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err))
		default:
			seqs.Add(res)
			r.rec.Eventf(ctx, ss, corev1.EventTypeNormal, "SuccessfulDelete", "delete Pod %s in StatefulSet %s successful", p.Name, ss.Name)
		}
	}
	if n := len(plan.Create) + len(plan.Delete); n > 0 {
		r.log.Debug("synced", zap.String("statefulset", ss.Namespace+"/"+ss.Name), zap.Int("created", len(plan.Create)), zap.Int("deleted", len(plan.Delete)))
	}
	return errors.Join(errs...)
}

// podOfClaim is the pod name a claim name <template>-<pod> ends with.
func podOfClaim(ss *appsv1.StatefulSet, claim string) string {
	for _, c := range ss.Spec.VolumeClaimTemplates {
		if len(claim) > len(c.Name)+1 && claim[:len(c.Name)+1] == c.Name+"-" {
			return claim[len(c.Name)+1:]
		}
	}
	return ""
}

var podKind = objects.ByKind("Pod")
