package objects

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// badCase is a manifest and the exact errors it must get, each written
// "field.path: <error type>", e.g. "spec.containers[0].image: Required value".
type badCase struct {
	name      string
	doc       string
	want      []string
	detail    string // if set, some error's text must contain it
	noDefault bool   // validate as decoded, without Default
}

func errKeys(errs field.ErrorList) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Field + ": " + e.Type.String()
	}
	sort.Strings(out)
	return out
}

func runBadCases(t *testing.T, cases []badCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj, _, err := Decode([]byte(tc.doc))
			if err != nil {
				t.Fatalf("decode: %v\n%s", err, tc.doc)
			}
			if !tc.noDefault {
				Default(obj)
			}
			errs := Validate(obj)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			got := errKeys(errs)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("errors:\n  got  %q\n  want %q\nfull:\n%s", got, want, errs.ToAggregate())
			}
			if tc.detail != "" && !strings.Contains(fmt.Sprint(errs.ToAggregate()), tc.detail) {
				t.Fatalf("no error mentions %q:\n%s", tc.detail, errs.ToAggregate())
			}
		})
	}
}

// Manifest builders taking YAML flow-style fragments.

func podDoc(spec string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: default}\nspec: " + spec
}

// podWith is a pod with one valid container plus extra spec fields.
func podWith(extra string) string {
	return podDoc("{containers: [{name: web, image: nginx}], " + extra + "}")
}

// ctrWith is a pod whose only container has extra fields.
func ctrWith(extra string) string {
	return podDoc("{containers: [{name: web, image: nginx, " + extra + "}]}")
}

const tmpl = "template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: nginx}]}}"

func deployDoc(spec string) string {
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: default}\nspec: " + spec
}

func jobDoc(spec string) string {
	return "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: default}\nspec: " + spec
}

func cronDoc(spec string) string {
	return "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: default}\nspec: " + spec
}

func svcDoc(spec string) string {
	return "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: default}\nspec: " + spec
}

// doc builds any namespaced object from its kind line and body.
func doc(apiVersion, kind, body string) string {
	return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata: {name: x, namespace: default}\n%s", apiVersion, kind, body)
}
