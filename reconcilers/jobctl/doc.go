// Package jobctl is the I/O shell of Strom's Job controller: it reads a
// Job and the pods it owns from the Store, asks reconcilers/job for a
// plan, and writes it as the controller (every write carries the
// manager's cause, so strom trace and history show why): the status
// first, then the pods' tracking finalizers, then pod creations and
// deletions, then — ttlSecondsAfterFinished after the Job finished — the
// Job itself (foreground, so the garbage collector removes its pods
// first). Pods of a Job that is gone lose their finalizer.
package jobctl
