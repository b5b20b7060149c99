// Package serviceaccount is Strom's service account controller: every
// namespace that is not terminating has a ServiceAccount named
// "default", recreated if it is deleted, as Kubernetes' does (pods
// default spec.serviceAccountName to it). Tokens for the accounts are
// not issued yet.
package serviceaccount

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/strom-project/strom/events"
	"github.com/strom-project/strom/reconcilers/controller"
	"github.com/strom-project/strom/reconcilers/ctlutil"
	"github.com/strom-project/strom/reconcilers/manager"
)

// Actor is who the controller writes as.
const Actor = "system:serviceaccount-controller"

// Default is the account every namespace gets.
const Default = "default"

// Reconciler keeps each namespace's default ServiceAccount.
type Reconciler struct{ env manager.Env }

// New returns the service account controller.
func New(env manager.Env) *Reconciler { return &Reconciler{env: env} }

// Name implements manager.Reconciler.
func (r *Reconciler) Name() string { return "serviceaccount" }

// Keys implements manager.Reconciler: one key per namespace.
func (r *Reconciler) Keys() []string { return ctlutil.Keys(r.env.Store, "namespaces") }

// Watches namespaces, and deletions of default accounts.
func (r *Reconciler) Watches() []manager.Watch {
	return []manager.Watch{
		{Resource: "namespaces"},
		{Resource: "serviceaccounts", Keys: func(ev *events.Event) []string {
			if ev.Type == events.TypeDeleted && ev.Name == Default {
				return []string{ev.Namespace}
			}
			return nil
		}},
	}
}

// Wants reports whether namespace ns (nil: absent) needs its default
// account created, given whether it has one.
func Wants(ns *corev1.Namespace, has bool) bool {
	if ns == nil || has {
		return false
	}
	return ns.DeletionTimestamp == nil && ns.Status.Phase != corev1.NamespaceTerminating
}

// Reconcile creates namespace key's default account if it is missing.
func (r *Reconciler) Reconcile(ctx context.Context, key string) (controller.Result, error) {
	ns, ok, err := ctlutil.Get[corev1.Namespace](r.env.Store, "namespaces", "", key)
	if err != nil {
		return controller.Result{}, controller.Terminal(err)
	}
	if !ok {
		ns = nil
	}
	_, has := r.env.Store.Get("serviceaccounts", key, Default)
	if !Wants(ns, has) {
		return controller.Result{}, nil
	}
	sa := &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta: metav1.ObjectMeta{Name: Default, Namespace: key}}
	_, err = r.env.Writer.Create(ctx, sa, ctlutil.Opts(ctx, Actor))
	switch {
	case err == nil, events.IsAlreadyExists(err):
		return controller.Result{}, nil
	case events.IsNotFound(err), events.ReasonOf(err) == events.ReasonForbidden:
		return controller.Result{}, nil // the namespace went or is terminating
	}
	return controller.Result{}, fmt.Errorf("creating the default ServiceAccount of namespace %s: %w", key, err)
}
