package proxy

import (
	"strings"
	"testing"
)

// The fake is only useful if it rejects what iptables-restore rejects.
func TestFakeRunnerRejects(t *testing.T) {
	for _, tc := range []struct{ name, input, want string }{
		{"rule in missing chain", "*nat\n-A STROM-X -j RETURN\nCOMMIT\n", "no chain"},
		{"jump to missing chain", "*nat\n:STROM-X - [0:0]\n-A STROM-X -j STROM-Y\nCOMMIT\n", "missing chain"},
		{"delete referenced chain", "*nat\n:STROM-X - [0:0]\n:STROM-Y - [0:0]\n-A STROM-X -j STROM-Y\n-X STROM-Y\nCOMMIT\n", "referenced"},
		{"delete non-empty chain", "*nat\n:STROM-X - [0:0]\n-A STROM-X -j RETURN\n-X STROM-X\nCOMMIT\n", "not empty"},
		{"delete built-in", "*nat\n-X PREROUTING\nCOMMIT\n", "built-in"},
		{"delete missing rule", "*nat\n-D PREROUTING -j RETURN\nCOMMIT\n", "no such rule"},
		{"no commit", "*nat\n:STROM-X - [0:0]\n", "no COMMIT"},
		{"wrong table", "*filter\nCOMMIT\n", "table filter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFakeRunner()
			err := f.Restore("nat", []byte(tc.input))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Restore error %v, want one containing %q", err, tc.want)
			}
			if got := strom(f, "nat"); len(got) != 0 {
				t.Errorf("failed transaction left chains %v", got)
			}
		})
	}
}

func TestFakeRunnerNoflushSemantics(t *testing.T) {
	f := NewFakeRunner()
	mustRestore := func(in string) {
		t.Helper()
		if err := f.Restore("nat", []byte(in)); err != nil {
			t.Fatal(err)
		}
	}
	mustRestore("*nat\n:STROM-A - [0:0]\n:STROM-B - [0:0]\n-A STROM-A -j RETURN\n-A STROM-B -j RETURN\nCOMMIT\n")
	// Declaring A flushes it; B, not mentioned, keeps its rule.
	mustRestore("*nat\n:STROM-A - [0:0]\n-A STROM-A -j STROM-B\nCOMMIT\n")
	if got := f.Rules("nat", "STROM-A"); len(got) != 1 || got[0] != "-j STROM-B" {
		t.Errorf("STROM-A = %v", got)
	}
	if got := f.Rules("nat", "STROM-B"); len(got) != 1 {
		t.Errorf("STROM-B = %v, want untouched", got)
	}
}
