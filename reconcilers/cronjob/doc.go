// Package cronjob is the pure core of Strom's CronJob controller
// (batch/v1): given a CronJob, the Jobs it controls and the time, Plan
// says which Job to start (named <cronjob>-<scheduled time in Unix
// minutes>, so that a restarted leader never starts one schedule twice),
// which Jobs to delete (running ones under concurrencyPolicy Replace, and
// finished ones beyond the history limits, oldest first), what the
// CronJob's status is, which Events to record and when to plan again (the
// next schedule time). It does no I/O and keeps no state; the shell
// (reconcilers/cronjobctl) reads the projections, calls Plan and writes
// the results: deletions, then the creation, then the status.
//
// Plan follows Kubernetes' CronJob controller. Schedules are cron
// expressions (five fields or a descriptor such as @hourly or @every 1h)
// parsed by github.com/robfig/cron/v3, in spec.timeZone, in a TZ= or
// CRON_TZ= prefix of the schedule, or else in the controller's zone. After
// an outage only the most recent missed schedule runs, and only if it is
// less than startingDeadlineSeconds late.
package cronjob
