package printers

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

var deploymentColumns = cols("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "*CONTAINERS", "*IMAGES", "*SELECTOR")

func deploymentRow(d *appsv1.Deployment, now time.Time) []string {
	names, images := containerNamesImages(d.Spec.Template.Spec.Containers)
	selector := "<invalid>"
	if s, err := metav1.LabelSelectorAsSelector(d.Spec.Selector); err == nil {
		selector = s.String()
	}
	return []string{
		d.Name, fmt.Sprintf("%d/%d", d.Status.ReadyReplicas, int32Or(d.Spec.Replicas, 1)),
		fmt.Sprint(d.Status.UpdatedReplicas), fmt.Sprint(d.Status.AvailableReplicas), age(d.CreationTimestamp, now),
		names, images, selector,
	}
}

var replicaSetColumns = cols("NAME", "DESIRED", "CURRENT", "READY", "AGE", "*CONTAINERS", "*IMAGES", "*SELECTOR")

func replicaSetRow(rs *appsv1.ReplicaSet, now time.Time) []string {
	names, images := containerNamesImages(rs.Spec.Template.Spec.Containers)
	return []string{
		rs.Name, fmt.Sprint(int32Or(rs.Spec.Replicas, 1)), fmt.Sprint(rs.Status.Replicas),
		fmt.Sprint(rs.Status.ReadyReplicas), age(rs.CreationTimestamp, now),
		names, images, selectorString(rs.Spec.Selector),
	}
}

var daemonSetColumns = cols("NAME", "DESIRED", "CURRENT", "READY", "UP-TO-DATE", "AVAILABLE", "NODE SELECTOR", "AGE",
	"*CONTAINERS", "*IMAGES", "*SELECTOR")

func daemonSetRow(ds *appsv1.DaemonSet, now time.Time) []string {
	names, images := containerNamesImages(ds.Spec.Template.Spec.Containers)
	st := ds.Status
	return []string{
		ds.Name, fmt.Sprint(st.DesiredNumberScheduled), fmt.Sprint(st.CurrentNumberScheduled),
		fmt.Sprint(st.NumberReady), fmt.Sprint(st.UpdatedNumberScheduled), fmt.Sprint(st.NumberAvailable),
		mapLabels(ds.Spec.Template.Spec.NodeSelector), age(ds.CreationTimestamp, now),
		names, images, selectorString(ds.Spec.Selector),
	}
}

var statefulSetColumns = cols("NAME", "READY", "AGE", "*CONTAINERS", "*IMAGES")

func statefulSetRow(s *appsv1.StatefulSet, now time.Time) []string {
	names, images := containerNamesImages(s.Spec.Template.Spec.Containers)
	return []string{
		s.Name, fmt.Sprintf("%d/%d", s.Status.ReadyReplicas, int32Or(s.Spec.Replicas, 1)), age(s.CreationTimestamp, now),
		names, images,
	}
}

var jobColumns = cols("NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE", "*CONTAINERS", "*IMAGES", "*SELECTOR")

func jobRow(j *batchv1.Job, now time.Time) []string {
	var completions string
	switch {
	case j.Spec.Completions != nil:
		completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
	case int32Or(j.Spec.Parallelism, 0) > 1:
		completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, *j.Spec.Parallelism)
	default:
		completions = fmt.Sprintf("%d/1", j.Status.Succeeded)
	}
	var took string
	switch {
	case j.Status.StartTime == nil:
	case j.Status.CompletionTime == nil:
		took = duration.HumanDuration(now.Sub(j.Status.StartTime.Time))
	default:
		took = duration.HumanDuration(j.Status.CompletionTime.Sub(j.Status.StartTime.Time))
	}
	names, images := containerNamesImages(j.Spec.Template.Spec.Containers)
	return []string{
		j.Name, jobStatus(j), completions, took, age(j.CreationTimestamp, now),
		names, images, selectorString(j.Spec.Selector),
	}
}

// jobStatus is the STATUS column kubectl 1.30+ shows for jobs.
func jobStatus(j *batchv1.Job) string {
	has := func(t batchv1.JobConditionType) bool {
		for _, c := range j.Status.Conditions {
			if c.Type == t && c.Status == corev1.ConditionTrue {
				return true
			}
		}
		return false
	}
	switch {
	case has(batchv1.JobComplete):
		return "Complete"
	case has(batchv1.JobFailed):
		return "Failed"
	case j.DeletionTimestamp != nil:
		return "Terminating"
	case has(batchv1.JobSuspended):
		return "Suspended"
	case has(batchv1.JobFailureTarget):
		return "FailureTarget"
	case has(batchv1.JobSuccessCriteriaMet):
		return "SuccessCriteriaMet"
	default:
		return "Running"
	}
}

var cronJobColumns = cols("NAME", "SCHEDULE", "TIMEZONE", "SUSPEND", "ACTIVE", "LAST SCHEDULE", "AGE",
	"*CONTAINERS", "*IMAGES", "*SELECTOR")

func cronJobRow(c *batchv1.CronJob, now time.Time) []string {
	last := none
	if c.Status.LastScheduleTime != nil {
		last = age(*c.Status.LastScheduleTime, now)
	}
	tz := none
	if c.Spec.TimeZone != nil {
		tz = *c.Spec.TimeZone
	}
	names, images := containerNamesImages(c.Spec.JobTemplate.Spec.Template.Spec.Containers)
	return []string{
		c.Name, c.Spec.Schedule, tz, boolPtrString(c.Spec.Suspend), fmt.Sprint(len(c.Status.Active)), last,
		age(c.CreationTimestamp, now),
		names, images, selectorString(c.Spec.JobTemplate.Spec.Selector),
	}
}
