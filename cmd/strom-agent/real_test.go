package main

import (
	"testing"

	"github.com/spf13/pflag"
	"go.uber.org/zap"
)

// Two agents on one machine keep apart: every directory an agent writes
// (state with IP allocations, netns pins and FIFOs, logs) is a flag.
func TestAgentDirectoriesAreFlags(t *testing.T) {
	var o realOptions
	f := pflag.NewFlagSet("t", pflag.ContinueOnError)
	addRealFlags(f, &o)
	if err := f.Parse([]string{"--root-dir", "/tmp/a/state", "--run-dir", "/tmp/a/run", "--log-dir", "/tmp/a/logs"}); err != nil {
		t.Fatal(err)
	}
	rc, err := o.RealConfig("", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if rc.RootDir != "/tmp/a/state" || rc.RunDir != "/tmp/a/run" || rc.LogDir != "/tmp/a/logs" {
		t.Fatalf("RealConfig dirs: root %q run %q log %q", rc.RootDir, rc.RunDir, rc.LogDir)
	}
	var d realOptions
	addRealFlags(pflag.NewFlagSet("d", pflag.ContinueOnError), &d)
	if rc, _ := d.RealConfig("", zap.NewNop()); rc.RunDir != "/run/strom" || rc.LogDir != "/var/log/strom/pods" {
		t.Fatalf("defaults: run %q log %q", rc.RunDir, rc.LogDir)
	}
}
