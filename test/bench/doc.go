// Package bench holds Strom's end-to-end benchmarks. They run against real
// servers (embedded NATS, stromd) and report their own metrics; results and
// conditions are recorded in docs/BENCHMARKS.md. Run them with `make bench`.
package bench
