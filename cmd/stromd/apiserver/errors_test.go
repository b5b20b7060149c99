package apiserver_test

import (
	"context"
	"errors"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/strom-project/strom/cmd/stromd/app"
	"github.com/strom-project/strom/events/api"
	"github.com/strom-project/strom/test/clustertest"
)

// Errors cross the NATS API as kube-apiserver's: a client classifies them
// with apimachinery's predicates, and the message and details are the ones
// apimachinery builds.
func TestErrorsAcrossTheWire(t *testing.T) {
	d := clustertest.StartStromd(t, func(c *app.Config) { c.NoControllers = true })
	c := clustertest.AdminClient(t, d)
	ctx := context.Background()
	deploy := []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}}}}`)

	_, err := c.Do(ctx, api.VerbGet, &api.Request{Resource: "deployments", Name: "web"})
	want := apierrors.NewNotFound(schema.GroupResource{Group: "apps", Resource: "deployments"}, "web")
	if !apierrors.IsNotFound(err) || err.Error() != want.Error() {
		t.Fatalf("get of a missing deployment: %v, want %v", err, want)
	}
	if st := apierrors.APIStatus(nil); !errors.As(err, &st) || st.Status().Details == nil || st.Status().Details.Name != "web" || st.Status().Details.Group != "apps" {
		t.Errorf("not found lost its details: %#v", err)
	}

	if _, err := c.Do(ctx, api.VerbCreate, &api.Request{Object: deploy}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Do(ctx, api.VerbCreate, &api.Request{Object: deploy})
	if !apierrors.IsAlreadyExists(err) || err.Error() != `deployments.apps "web" already exists` {
		t.Errorf("second create: %v", err)
	}

	_, err = c.Do(ctx, api.VerbDelete, &api.Request{Resource: "deployments", Name: "web", ResourceVersion: "1"})
	if !apierrors.IsConflict(err) {
		t.Errorf("stale delete: %v, want a Conflict", err)
	}

	bad := []byte(`{"apiVersion":"v1","kind":"Service","metadata":{"name":"db"},"spec":{"clusterIP":"not-an-ip","ports":[{"port":80}]}}`)
	_, err = c.Do(ctx, api.VerbCreate, &api.Request{Object: bad})
	if !apierrors.IsInvalid(err) {
		t.Fatalf("invalid service: %v, want Invalid", err)
	}
	var st apierrors.APIStatus
	if !errors.As(err, &st) || st.Status().Details == nil || len(st.Status().Details.Causes) == 0 || st.Status().Details.Causes[0].Field == "" {
		t.Errorf("invalid lost its field causes: %#v", err)
	}
}
