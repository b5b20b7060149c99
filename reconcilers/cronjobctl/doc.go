// Package cronjobctl is the I/O shell of Strom's CronJob controller: it
// reads a CronJob and the Jobs it controls from the Store, asks
// reconcilers/cronjob for a plan at the manager's clock, and writes it as
// the controller: Job deletions (background propagation: the garbage
// collector removes their pods), then the scheduled Job's creation (a
// Job that already exists under that name is the same schedule's, started
// by an earlier leader), then the status. It asks to be requeued at the
// next schedule time; CronJob writes and changes of its Jobs reconcile it
// sooner.
package cronjobctl
