package objects

import (
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
)

const jobTmpl = "template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}"

func TestValidateJob(t *testing.T) {
	runBadCases(t, []badCase{
		{name: "job restartPolicy must be set", doc: jobDoc("{template: {spec: {containers: [{name: c, image: busybox}]}}}"),
			want: []string{"spec.template.spec.restartPolicy: Unsupported value"}, detail: `supported values: "OnFailure", "Never"`},
		{name: "job restartPolicy reported Required without defaulting", noDefault: true,
			doc:  jobDoc("{template: {spec: {dnsPolicy: ClusterFirst, containers: [{name: c, image: busybox, imagePullPolicy: Always}]}}}"),
			want: []string{"spec.template.spec.restartPolicy: Required value"}},
		{name: "job counts", doc: jobDoc("{parallelism: -1, backoffLimit: -2, activeDeadlineSeconds: 0, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}"),
			want: []string{"spec.parallelism: Invalid value", "spec.backoffLimit: Invalid value", "spec.activeDeadlineSeconds: Invalid value"}},
		{name: "indexed job needs completions", doc: jobDoc("{parallelism: 2, completionMode: Indexed, template: {spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}"),
			want: []string{"spec.completions: Required value"}},
		{name: "job selector matches template", doc: jobDoc("{selector: {matchLabels: {app: a}}, template: {metadata: {labels: {app: b}}, spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}}}"),
			want: []string{"spec.template.metadata.labels: Invalid value"}},
		{name: "job completions not negative", doc: jobDoc("{completions: -1, " + jobTmpl + "}"),
			want: []string{"spec.completions: Invalid value"}},
		{name: "backoffLimitPerIndex needs Indexed", doc: jobDoc("{backoffLimitPerIndex: 1, " + jobTmpl + "}"),
			want: []string{"spec.backoffLimitPerIndex: Forbidden"}},
		{name: "maxFailedIndexes needs backoffLimitPerIndex", doc: jobDoc("{completions: 2, completionMode: Indexed, maxFailedIndexes: 1, " + jobTmpl + "}"),
			want: []string{"spec.backoffLimitPerIndex: Required value"}},
		{name: "job restartPolicy Always refused", doc: jobDoc("{template: {spec: {restartPolicy: Always, containers: [{name: c, image: busybox}]}}}"),
			want: []string{"spec.template.spec.restartPolicy: Unsupported value"}},
		{name: "successPolicy needs Indexed", doc: jobDoc("{successPolicy: {rules: [{succeededCount: 1}]}, " + jobTmpl + "}"),
			want: []string{"spec.successPolicy: Invalid value"}},
		{name: "podFailurePolicy needs restartPolicy Never", doc: jobDoc("{podFailurePolicy: {rules: [{action: FailJob, onExitCodes: {operator: In, values: [1]}}]}, template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: busybox}]}}}"),
			want: []string{"spec.template.spec.restartPolicy: Invalid value"}},
		{name: "podFailurePolicy rule shape", doc: jobDoc("{podFailurePolicy: {rules: [{action: Explode, onExitCodes: {operator: In, values: [0]}}]}, " + jobTmpl + "}"),
			want: []string{"spec.podFailurePolicy.rules[0].action: Unsupported value", "spec.podFailurePolicy.rules[0].onExitCodes.values[0]: Invalid value"}},
		{name: "manualSelector needs a selector", doc: jobDoc("{manualSelector: true, " + jobTmpl + "}"),
			want: []string{"spec.selector: Required value"}},
		{name: "a valid indexed job", doc: jobDoc("{completions: 3, parallelism: 3, completionMode: Indexed, backoffLimitPerIndex: 1, maxFailedIndexes: 1, successPolicy: {rules: [{succeededIndexes: '0-1'}]}, " + jobTmpl + "}")},
	})
}

// A new Job's selector is generated from its uid, its template labelled
// to match; an update that leaves them out keeps them; the template,
// completion mode and completions are immutable (elastic Indexed jobs
// excepted).
func TestJobSelectorAndUpdates(t *testing.T) {
	cur := decodeDefault[*batchv1.Job](t, jobDoc("{completions: 2, parallelism: 2, completionMode: Indexed, "+jobTmpl+"}"))
	cur.UID = "u1"
	PrepareCreate(cur)
	if cur.Spec.Selector.MatchLabels[batchv1.ControllerUidLabel] != "u1" || cur.Spec.Template.Labels["job-name"] != "j" ||
		cur.Spec.Template.Labels[batchv1.JobNameLabel] != "j" || cur.Spec.Template.Labels["controller-uid"] != "u1" {
		t.Fatalf("selector %v labels %v", cur.Spec.Selector, cur.Spec.Template.Labels)
	}
	if errs := Validate(cur); len(errs) > 0 {
		t.Fatalf("generated selector invalid: %v", errs)
	}
	next := decodeDefault[*batchv1.Job](t, jobDoc("{completions: 2, parallelism: 2, completionMode: Indexed, activeDeadlineSeconds: 5, "+jobTmpl+"}"))
	PrepareUpdate(next, cur)
	if errs := ValidateUpdate(next, cur); len(errs) > 0 {
		t.Fatalf("re-applied manifest refused: %v", errs)
	}
	elastic := next.DeepCopy()
	elastic.Spec.Completions, elastic.Spec.Parallelism = ptrTo[int32](4), ptrTo[int32](4)
	if errs := ValidateUpdate(elastic, cur); len(errs) > 0 {
		t.Fatalf("elastic scale refused: %v", errs)
	}
	bad := next.DeepCopy()
	bad.Spec.Completions = ptrTo[int32](3)
	bad.Spec.Template.Spec.Containers[0].Image = "nginx"
	bad.Spec.CompletionMode = ptrTo(batchv1.NonIndexedCompletion)
	got := strings.Join(errKeys(ValidateUpdate(bad, cur)), "; ")
	for _, want := range []string{"spec.template: Invalid value", "spec.completionMode: Invalid value", "spec.completions: Invalid value"} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in %q", want, got)
		}
	}
}
