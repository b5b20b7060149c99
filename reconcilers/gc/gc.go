package gc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.uber.org/zap"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/events/objects"
	"github.com/strom-project/strom/projections"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the garbage collector writes as.
const Actor = "system:garbage-collector"

// Finalizers of the propagation policies, as Kubernetes names them.
const (
	FinalizerForeground = metav1.FinalizerDeleteDependents // "foregroundDeletion"
	FinalizerOrphan     = metav1.FinalizerOrphanDependents // "orphan"
)

// Reconciler collects garbage.
type Reconciler struct {
	env   manager.Env
	rec   *ctlutil.Recorder
	log   *zap.Logger
	kinds []*objects.Kind
}

// New returns a garbage collector over every stored kind but Events.
func New(env manager.Env) *Reconciler {
	r := &Reconciler{env: env, log: ctlutil.Log(env, "gc"), rec: ctlutil.NewRecorder(env, Actor, "garbage-collector")}
	for _, k := range objects.All() {
		if k.Kind != "Event" {
			r.kinds = append(r.kinds, k)
		}
	}
	return r
}

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "garbagecollector" }

// Workers: deletions are independent.
func (r *Reconciler) Workers() int { return 4 }

// Key names an object of a resource.
func Key(resource, ns, name string) string { return resource + "/" + ns + "/" + name }

func parseKey(key string) (resource, ns, name string) {
	parts := strings.SplitN(key, "/", 3)
	if len(parts) != 3 {
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}

// Keys lists every object that has owners or is being deleted with a
// propagation finalizer.
func (r *Reconciler) Keys() []string {
	var keys []string
	for _, k := range r.kinds {
		items, _ := r.env.Store.List(projections.Query{Resource: k.Resource})
		for _, e := range items {
			if len(e.Owners) > 0 || hasPropagationFinalizer(e) {
				keys = append(keys, Key(e.Resource, e.Namespace, e.Name))
			}
		}
	}
	return keys
}

func hasPropagationFinalizer(e *projections.Entry) bool {
	d := e.Data
	return strings.Contains(string(d), `"`+FinalizerForeground+`"`) || strings.Contains(string(d), `"`+FinalizerOrphan+`"`)
}

// Watches every kind: a change to an object with owners or finalizers
// makes it dirty; a deletion makes its dependents dirty.
func (r *Reconciler) Watches() []manager.Watch {
	ws := make([]manager.Watch, 0, len(r.kinds))
	for _, k := range r.kinds {
		ws = append(ws, manager.Watch{Resource: k.Resource, Keys: r.keysFor})
	}
	return ws
}

func (r *Reconciler) keysFor(ev *events.Event) []string {
	var keys []string
	if ev.Type == events.TypeDeleted {
		keys = append(keys, r.dependentKeys(ev.UID)...)
		// An owner waiting in foreground for its dependents to go.
		if len(ev.Owners) > 0 {
			var m struct {
				Metadata metav1.ObjectMeta `json:"metadata"`
			}
			if json.Unmarshal(ev.Object, &m) == nil {
				for _, ref := range m.Metadata.OwnerReferences {
					if k := objects.ByKind(ref.Kind); k != nil {
						ns := ev.Namespace
						if !k.Namespaced {
							ns = ""
						}
						keys = append(keys, Key(k.Resource, ns, ref.Name))
					}
				}
			}
		}
		return keys
	}
	if len(ev.Owners) > 0 || strings.Contains(string(ev.Object), `"deletionTimestamp"`) {
		keys = append(keys, Key(ev.Resource, ev.Namespace, ev.Name))
	}
	return keys
}

// dependentKeys lists the objects that name uid as an owner.
func (r *Reconciler) dependentKeys(uid string) []string {
	if uid == "" {
		return nil
	}
	var keys []string
	for _, e := range r.dependents(uid) {
		keys = append(keys, Key(e.Resource, e.Namespace, e.Name))
	}
	return keys
}

func (r *Reconciler) dependents(uid string) []*projections.Entry {
	var out []*projections.Entry
	sel := fields.OneTermEqualSelector("metadata.ownerReferences.uid", uid)
	for _, k := range r.kinds {
		items, _ := r.env.Store.List(projections.Query{Resource: k.Resource, Fields: sel})
		out = append(out, items...)
	}
	return out
}

// Reconcile handles one object: finishes its propagation if it is being
// deleted with a finalizer, and deletes it if its owners are gone.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	resource, ns, name := parseKey(key)
	e, ok := r.env.Store.Get(resource, ns, name)
	if !ok {
		return controller.Result{}, nil
	}
	obj, err := e.Object()
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if obj.GetDeletionTimestamp() != nil {
		switch {
		case hasFinalizer(obj, FinalizerOrphan):
			return controller.Result{}, r.orphan(ctx, e, obj)
		case hasFinalizer(obj, FinalizerForeground):
			return r.foreground(ctx, e, obj)
		}
	}
	if len(obj.GetOwnerReferences()) == 0 {
		return controller.Result{}, nil
	}
	return controller.Result{}, r.collect(ctx, e, obj)
}

// collect deletes obj when none of its owners exists; it drops references
// to owners that are gone when others remain.
func (r *Reconciler) collect(ctx context.Context, e *projections.Entry, obj objects.Object) error {
	refs := obj.GetOwnerReferences()
	var live []metav1.OwnerReference
	ownerDeleting := false
	for _, ref := range refs {
		owner, ok := r.owner(ref, obj.GetNamespace())
		if !ok {
			continue
		}
		live = append(live, ref)
		if owner.DeletionTimestamp != nil && slices.Contains(owner.Finalizers, FinalizerForeground) {
			ownerDeleting = true
		}
	}
	switch {
	case len(live) == 0 || ownerDeleting:
		return r.delete(ctx, e, obj, ownerDeleting)
	case len(live) < len(refs):
		next := obj.DeepCopyObject().(objects.Object)
		next.SetOwnerReferences(live)
		_, err := r.env.Writer.Update(ctx, next, ctlutil.Opts(ctx, Actor))
		if events.IsConflict(err) || events.IsNotFound(err) {
			return nil
		}
		return err
	}
	return nil
}

// owner returns the metadata of the object a reference names if it
// exists with that uid. Only the metadata is decoded: every dependent's
// event asks for its owners, and an owner such as a Job changes often.
func (r *Reconciler) owner(ref metav1.OwnerReference, ns string) (*metav1.ObjectMeta, bool) {
	k := objects.ByKind(ref.Kind)
	if k == nil {
		return nil, false
	}
	if !k.Namespaced {
		ns = ""
	}
	e, ok := r.env.Store.Get(k.Resource, ns, ref.Name)
	if !ok || e.UID != string(ref.UID) {
		return nil, false
	}
	var o struct {
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(e.Data, &o); err != nil {
		return nil, false
	}
	return &o.Metadata, true
}

// delete removes a dependent: pods gracefully, other objects for good or,
// when foreground is set, in foreground too.
func (r *Reconciler) delete(ctx context.Context, e *projections.Entry, obj objects.Object, foreground bool) error {
	o := ctlutil.Opts(ctx, Actor)
	k, err := objects.KindOf(obj)
	if err != nil {
		return controller.Terminal(err)
	}
	if pod, ok := obj.(*corev1.Pod); ok {
		if pod.DeletionTimestamp != nil {
			return nil
		}
		_, err := r.env.Writer.Delete(ctx, k, pod.Namespace, pod.Name, events.DeleteOptions{}, o) // graceful
		if events.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
		r.rec.Eventf(ctx, pod, corev1.EventTypeNormal, "Killing", "Deleting pod %s: its owner is gone", pod.Name)
		return nil
	}
	if foreground && len(r.dependents(e.UID)) > 0 {
		if obj.GetDeletionTimestamp() != nil {
			return nil
		}
		_, err := r.env.Writer.Delete(ctx, k, obj.GetNamespace(), obj.GetName(), events.DeleteOptions{Propagation: events.PropagationForeground}, o)
		if events.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("deleting %s %s in foreground: %w", k.Resource, e.Key(), err)
		}
		return nil
	}
	_, err = r.env.Writer.Delete(ctx, k, obj.GetNamespace(), obj.GetName(), events.DeleteOptions{Now: true}, o)
	if events.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s %s: %w", k.Resource, e.Key(), err)
	}
	return nil
}

// foreground deletes obj's dependents, then obj once none is left.
func (r *Reconciler) foreground(ctx context.Context, e *projections.Entry, obj objects.Object) (controller.Result, error) {
	deps := r.dependents(e.UID)
	if len(deps) > 0 {
		var errs []error
		for _, d := range deps {
			dobj, err := d.Object()
			if err != nil {
				continue
			}
			if err := r.delete(ctx, d, dobj, true); err != nil {
				errs = append(errs, err)
			}
		}
		// Dependents' deletions re-queue obj through the watch.
		return controller.Result{}, errors.Join(errs...)
	}
	return controller.Result{}, r.finish(ctx, obj, FinalizerForeground)
}

// orphan removes obj's owner reference from its dependents, then deletes
// obj.
func (r *Reconciler) orphan(ctx context.Context, e *projections.Entry, obj objects.Object) error {
	o := ctlutil.Opts(ctx, Actor)
	var errs []error
	for _, d := range r.dependents(e.UID) {
		dobj, err := d.Object()
		if err != nil {
			continue
		}
		var keep []metav1.OwnerReference
		for _, ref := range dobj.GetOwnerReferences() {
			if string(ref.UID) != e.UID {
				keep = append(keep, ref)
			}
		}
		dobj.SetOwnerReferences(keep)
		if _, err := r.env.Writer.Update(ctx, dobj, o); err != nil && !events.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("orphaning %s %s: %w", d.Resource, d.Key(), err))
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	return r.finish(ctx, obj, FinalizerOrphan)
}

// finish deletes obj for good once fin is its only finalizer left.
func (r *Reconciler) finish(ctx context.Context, obj objects.Object, fin string) error {
	k, err := objects.KindOf(obj)
	if err != nil {
		return controller.Terminal(err)
	}
	for _, f := range obj.GetFinalizers() {
		if f != fin {
			return nil // another finalizer still holds it
		}
	}
	_, err = r.env.Writer.Delete(ctx, k, obj.GetNamespace(), obj.GetName(), events.DeleteOptions{Precondition: obj.GetResourceVersion(), Now: true}, ctlutil.Opts(ctx, Actor))
	if events.IsNotFound(err) || events.IsConflict(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("deleting %s %s/%s: %w", k.Resource, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

func hasFinalizer(obj objects.Object, f string) bool {
	for _, x := range obj.GetFinalizers() {
		if x == f {
			return true
		}
	}
	return false
}
