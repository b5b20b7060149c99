package objects

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// CronJobs are checked as Kubernetes' API server checks them on create:
// the schedule must parse as the CronJob controller parses it (five
// fields, or @yearly, @annually, @monthly, @weekly, @daily, @midnight,
// @hourly, "@every <duration>"), must not carry a TZ= or CRON_TZ= prefix
// (spec.timeZone says the zone), and the zone must be in the tz database.
// The name's 52-character limit is in validate_meta.go.

var concurrencyPolicies = []batchv1.ConcurrencyPolicy{batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent}

func validateCronJob(c *batchv1.CronJob) field.ErrorList {
	s := &c.Spec
	var errs field.ErrorList
	sp := specPath.Child("schedule")
	if s.Schedule == "" {
		errs = append(errs, field.Required(sp, ""))
	} else {
		errs = append(errs, validateScheduleFormat(s.Schedule, s.TimeZone, sp)...)
	}
	errs = append(errs, validateTimeZone(s.TimeZone, specPath.Child("timeZone"))...)
	errs = append(errs, validateEnum(s.ConcurrencyPolicy, concurrencyPolicies, specPath.Child("concurrencyPolicy"))...)
	errs = append(errs, nonNegativePtr64(s.StartingDeadlineSeconds, specPath.Child("startingDeadlineSeconds"))...)
	errs = append(errs, nonNegativePtr32(s.SuccessfulJobsHistoryLimit, specPath.Child("successfulJobsHistoryLimit"))...)
	errs = append(errs, nonNegativePtr32(s.FailedJobsHistoryLimit, specPath.Child("failedJobsHistoryLimit"))...)
	jt := specPath.Child("jobTemplate")
	errs = append(errs, validateTemplateMeta(&s.JobTemplate.ObjectMeta, jt.Child("metadata"))...)
	errs = append(errs, validateJobSpec(&s.JobTemplate.Spec, jt.Child("spec"))...)
	return errs
}

// validateCronSchedule says why the controller could not parse s.
func validateCronSchedule(s string) error {
	_, err := cron.ParseStandard(s)
	return err
}

func validateScheduleFormat(s string, timeZone *string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if err := validateCronSchedule(s); err != nil {
		errs = append(errs, field.Invalid(p, s, err.Error()))
	}
	if strings.Contains(s, "TZ") {
		msg := "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
		if timeZone != nil {
			msg = "cannot use both timeZone field and TZ or CRON_TZ in schedule"
		}
		errs = append(errs, field.Invalid(p, s, msg))
	}
	return errs
}

// tzComponent is one part of a tz database name: letters, '.', '-', '_',
// and the digits and '+' of legacy names, at most 14 characters.
var tzComponent = regexp.MustCompile(`^[A-Za-z.\-_0-9+]{1,14}$`)

func validateTimeZone(tz *string, p *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	if *tz == "" {
		return field.ErrorList{field.Invalid(p, *tz, "timeZone must be nil or non-empty string")}
	}
	for _, part := range strings.Split(*tz, "/") {
		if part == "." || part == ".." || strings.HasPrefix(part, "-") || !tzComponent.MatchString(part) {
			return field.ErrorList{field.Invalid(p, *tz, fmt.Sprintf("unknown time zone %s", *tz))}
		}
	}
	if strings.EqualFold(*tz, "Local") {
		return field.ErrorList{field.Invalid(p, *tz, "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones")}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return field.ErrorList{field.Invalid(p, *tz, err.Error())}
	}
	return nil
}
