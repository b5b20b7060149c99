// Package e2e holds end-to-end tests that run Strom's real binaries as
// processes: restart recovery after SIGKILL, the CLI against a live stromd.
package e2e
