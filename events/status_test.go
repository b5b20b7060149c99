package events

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/strom-project/strom/events/objects"
)

func mustKind(t *testing.T, resource string) *objects.Kind {
	t.Helper()
	k, err := objects.Lookup(resource)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestErrorsAreKubeAPIServers checks each constructor against what
// apimachinery builds for kube-apiserver: message, reason, code and
// details, and that apimachinery's predicates classify it.
func TestErrorsAreKubeAPIServers(t *testing.T) {
	deploy := mustKind(t, "deployments")
	svc := mustKind(t, "services")
	gr := schema.GroupResource{Group: "apps", Resource: "deployments"}
	errs := field.ErrorList{
		field.Required(field.NewPath("spec", "selector"), ""),
		field.Invalid(field.NewPath("metadata", "name"), "Web", "must be lowercase"),
	}
	tests := []struct {
		name string
		got  *Error
		want *apierrors.StatusError
		is   func(error) bool
	}{
		{"not found", NewNotFound(deploy, "web"), apierrors.NewNotFound(gr, "web"), apierrors.IsNotFound},
		{"already exists", NewAlreadyExists(deploy, "web"), apierrors.NewAlreadyExists(gr, "web"), apierrors.IsAlreadyExists},
		{"conflict", NewConflict(deploy, "web", "", nil),
			apierrors.NewConflict(gr, "web", errors.New("the object has been modified; please apply your changes to the latest version and try again")), apierrors.IsConflict},
		{"invalid", NewInvalid(deploy, "web", errs), apierrors.NewInvalid(schema.GroupKind{Group: "apps", Kind: "Deployment"}, "web", errs), apierrors.IsInvalid},
		{"invalid core", NewInvalid(svc, "db", errs[1:]), apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, "db", errs[1:]), apierrors.IsInvalid},
		{"forbidden", NewForbidden(deploy, "web", errors.New("no")), apierrors.NewForbidden(gr, "web", errors.New("no")), apierrors.IsForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := tt.got.Status(), tt.want.Status()
			if got.Message != want.Message || got.Reason != want.Reason || got.Code != want.Code {
				t.Errorf("got %q %s %d, want %q %s %d", got.Message, got.Reason, got.Code, want.Message, want.Reason, want.Code)
			}
			if fmt.Sprint(got.Details) != fmt.Sprint(want.Details) {
				t.Errorf("details %+v, want %+v", got.Details, want.Details)
			}
			if !tt.is(tt.got) {
				t.Errorf("apimachinery does not classify %v", tt.got)
			}
			wrapped := fmt.Errorf("writing: %w", tt.got)
			if !tt.is(wrapped) || ReasonOf(wrapped) != tt.got.Reason {
				t.Errorf("a wrapped %v lost its class", tt.got)
			}
		})
	}
}

func TestConflictKeepsCause(t *testing.T) {
	cause := errors.New("wrong last sequence: 41")
	e := NewConflict(mustKind(t, "pods"), "p", "", cause)
	if !errors.Is(e, cause) {
		t.Error("cause dropped from the chain")
	}
	if want := `Operation cannot be fulfilled on pods "p": the object has been modified; please apply your changes to the latest version and try again`; e.Error() != want {
		t.Errorf("message %q, want %q", e.Error(), want)
	}
}

func TestNamespaceTerminatingCause(t *testing.T) {
	e := newNamespaceTerminating(mustKind(t, "configmaps"), "cfg", "team")
	if !apierrors.IsForbidden(e) {
		t.Fatalf("not Forbidden: %v", e)
	}
	if !apierrors.HasStatusCause(e, "NamespaceTerminating") {
		t.Errorf("no NamespaceTerminating cause: %+v", e.Details)
	}
	if want := `configmaps "cfg" is forbidden: unable to create new content in namespace team because it is being terminated`; e.Error() != want {
		t.Errorf("message %q, want %q", e.Error(), want)
	}
}

func TestStatusOfEveryReason(t *testing.T) {
	for r, want := range map[Reason]int32{
		ReasonNotFound: http.StatusNotFound, ReasonAlreadyExists: http.StatusConflict, ReasonConflict: http.StatusConflict,
		ReasonInvalid: http.StatusUnprocessableEntity, ReasonBadRequest: http.StatusBadRequest, ReasonForbidden: http.StatusForbidden,
		ReasonGone: http.StatusGone, ReasonTimeout: http.StatusGatewayTimeout, ReasonInternal: http.StatusInternalServerError,
		ReasonTooManyRequests: http.StatusTooManyRequests, Reason("Unheard"): http.StatusInternalServerError,
	} {
		st := Errorf(r, "x").Status()
		if st.Code != want || st.Status != metav1.StatusFailure {
			t.Errorf("%s: code %d status %s, want %d Failure", r, st.Code, st.Status, want)
		}
		if r != "Unheard" && ReasonOf(apierrors.FromObject(&st)) != r {
			t.Errorf("%s does not survive a round trip through metav1.Status", r)
		}
	}
}
