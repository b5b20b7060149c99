package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The recorded scenario is checked in: test/testdata/timetravel-v1.stromlog
// (an export, format strom-log v1) and its key. Every command below must
// keep answering from it exactly as the golden files say, with no cluster:
// that is the offline path, and the promise that old exports keep
// replaying. Regenerate only for a new export format version:
//
//	go test ./cmd/strom -run TestRecordedScenarioGolden -update-timetravel=all
//
// and -update-timetravel=goldens rewrites only the golden outputs (after
// an intended change of output format).
var updateTimetravel = flag.String("update-timetravel", "", "all: re-record test/testdata/timetravel-v1.stromlog and its golden outputs; goldens: only the outputs")

const (
	recordedLog = "../../test/testdata/timetravel-v1.stromlog"
	recordedKey = "../../test/testdata/timetravel-v1.key"
	goldenDir   = "../../test/testdata/timetravel"
)

var goldenCommands = []struct {
	name string
	args []string
}{
	{"log", []string{"log"}},
	{"log_pods_json", []string{"log", "--kind", "pods", "-n", "shop", "-o", "json"}},
	{"log_actor_range", []string{"log", "--actor", "node-controller", "--from", "10", "--to", "24"}},
	{"get_pods_at_15", []string{"get", "pods", "-n", "shop", "--at", "15"}},
	{"get_all_at_22_wide", []string{"get", "deploy,rs,pods", "-n", "shop", "-o", "wide", "--at", "22"}},
	{"get_nodes_at_22_yaml", []string{"get", "nodes", "-o", "yaml", "--at", "22"}},
	{"get_clusterrole_at_7", []string{"get", "clusterrole", "viewer", "-o", "yaml", "--at", "7"}},
	{"get_pods_at_end", []string{"get", "pods", "-n", "shop", "--at", "-0s"}},
	{"describe_deploy_at_15", []string{"describe", "deploy/web", "-n", "shop", "--at", "15"}},
	{"describe_rs", []string{"describe", "rs/web-2", "-n", "shop"}},
	{"history_pod", []string{"history", "pod/web-1-a", "-n", "shop"}},
	{"history_secret_json", []string{"history", "secret/db", "-n", "shop", "-o", "json"}},
	{"trace_deploy", []string{"trace", "deploy/web", "-n", "shop"}},
	{"trace_pod_why", []string{"trace", "pod/web-1-a", "-n", "shop", "--why"}},
	{"trace_pod_json", []string{"trace", "pod/web-1-b", "-n", "shop", "-o", "json"}},
	{"diff_15_25", []string{"diff", "--from", "15", "--to", "25"}},
	{"diff_deploy_json", []string{"diff", "--from", "15", "deploy/web", "-n", "shop", "-o", "json"}},
	{"diff_secret", []string{"diff", "--from", "16", "secret", "db", "-n", "shop"}},
	{"diff_deploy_metadata", []string{"diff", "--from", "15", "--to", "24", "--show-metadata", "deploy"}},
	{"diff_created_deleted", []string{"diff", "--from", "8", "--to", "25", "-n", "shop", "pods"}},
	{"stream_info", []string{"stream", "info"}},
	{"stream_check", []string{"stream", "check"}},
}

// pathNoise hides the temporary file name stream info prints.
var pathNoise = regexp.MustCompile(`file:\S+`)

func TestRecordedScenarioGolden(t *testing.T) {
	if *updateTimetravel == "all" {
		s := startScenarioCluster(t)
		s.write(t)
		data, err := os.ReadFile(s.export(t))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(recordedLog, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(recordedKey, []byte(scenarioKey), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.Stat(recordedLog); err != nil {
		t.Fatalf("recorded scenario missing: %v", err)
	}
	for _, key := range []bool{false, true} {
		for _, gc := range goldenCommands {
			name := gc.name
			args := []string{"replay", "--file", recordedLog}
			if key {
				name += "_key"
				args = append(args, "--key", recordedKey)
			}
			t.Run(name, func(t *testing.T) {
				out, errOut, code := runCLI(append(args, gc.args...)...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errOut)
				}
				out = pathNoise.ReplaceAllString(out, "file:RECORDED")
				golden := filepath.Join(goldenDir, name+".golden")
				if *updateTimetravel != "" {
					if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatal(err)
				}
				if out != string(want) {
					t.Fatalf("output differs from %s:\n--- got\n%s\n--- want\n%s", golden, out, want)
				}
				if strings.Contains(out, "s3cret") || strings.Contains(out, "czNjcmV0") {
					t.Fatalf("a secret value leaked:\n%s", out)
				}
			})
		}
	}
}
