package cronjob

import (
	"fmt"
	"maps"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Kind is the CronJob's group, version and kind, for owner references.
var Kind = batchv1.SchemeGroupVersion.WithKind("CronJob")

// JobName names the Job of the schedule time t: the CronJob's name and
// t in Unix minutes, the same name for the same schedule on every leader.
func JobName(cronJob string, t time.Time) string {
	return fmt.Sprintf("%s-%d", cronJob, t.Unix()/60)
}

// JobFor returns the Job cj starts for schedule time t: the template's
// labels, annotations and spec, the scheduled-timestamp annotation (RFC
// 3339 in the CronJob's time zone) and cj as its controller.
func JobFor(cj *batchv1.CronJob, t time.Time) *batchv1.Job {
	j := NewJob(cj)
	j.Name = JobName(cj.Name, t)
	loc := time.UTC
	if tz := cj.Spec.TimeZone; tz != nil {
		if l, err := time.LoadLocation(*tz); err == nil {
			loc = l
		}
	}
	j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] = t.In(loc).Format(time.RFC3339)
	return j
}

// NewJob returns a Job from cj's template, controlled by cj, unnamed.
func NewJob(cj *batchv1.CronJob) *batchv1.Job {
	tmpl := &cj.Spec.JobTemplate
	j := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: batchv1.SchemeGroupVersion.String(), Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       cj.Namespace,
			Labels:          maps.Clone(tmpl.Labels),
			Annotations:     maps.Clone(tmpl.Annotations),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(cj, Kind)},
		},
	}
	if j.Annotations == nil {
		j.Annotations = map[string]string{}
	}
	tmpl.Spec.DeepCopyInto(&j.Spec)
	return j
}
