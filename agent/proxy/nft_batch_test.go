package proxy

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/knftables"
)

func TestBatchElements(t *testing.T) {
	tests := []struct {
		name, in, want string
		max            int
	}{
		{"a run on one map is one command",
			"add element ip strom m { 1 : a }\nadd element ip strom m { 2 : b }\n",
			"add element ip strom m { 1 : a, 2 : b }\n", 10},
		{"another set or verb ends the run",
			"add element ip strom m { 1 : a }\nadd element ip strom s { x }\ndelete element ip strom s { y }\ndelete element ip strom s { z }\nadd element ip strom m { 2 : b }\n",
			"add element ip strom m { 1 : a }\nadd element ip strom s { x }\ndelete element ip strom s { y, z }\nadd element ip strom m { 2 : b }\n", 10},
		{"other commands end the run and stay in place",
			"add element ip strom m { 1 : a }\nflush chain ip strom c\nadd element ip strom m { 2 : b }\nadd element ip strom m { 3 : c }\n",
			"add element ip strom m { 1 : a }\nflush chain ip strom c\nadd element ip strom m { 2 : b, 3 : c }\n", 10},
		{"runs are cut at max",
			"add element ip strom s { 1 }\nadd element ip strom s { 2 }\nadd element ip strom s { 3 }\n",
			"add element ip strom s { 1, 2 }\nadd element ip strom s { 3 }\n", 2},
		{"elements with comments, quotes or braces are left alone",
			"add element ip strom s { 1 }\nadd element ip strom s { 2 comment \"x, y\" }\nadd element ip strom s { 3 }\nadd element ip strom s { { 4 } }\n",
			"add element ip strom s { 1 }\nadd element ip strom s { 2 comment \"x, y\" }\nadd element ip strom s { 3 }\nadd element ip strom s { { 4 } }\n", 10},
		{"verdict values", "add element ip strom v { 10.0.0.1 . tcp . 80 : goto cluster-3 }\nadd element ip strom v { 10.0.0.2 . tcp . 80 : goto cluster-1 }\n",
			"add element ip strom v { 10.0.0.1 . tcp . 80 : goto cluster-3, 10.0.0.2 . tcp . 80 : goto cluster-1 }\n", 10},
		{"no elements", "add table ip strom\nadd chain ip strom c\n", "add table ip strom\nadd chain ip strom c\n", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := batchElements(tt.in, tt.max); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// A transaction knftables refused while it was built is not run: its
// text would otherwise be a truncated transaction nft accepts.
func TestTransactionScriptRefusesBrokenTransaction(t *testing.T) {
	tx := knftables.NewFake(knftables.IPv4Family, NFTTable).NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Add(&knftables.Chain{Name: "ok"})
	tx.Add(&knftables.Rule{Chain: "", Rule: "accept"}) // no chain: refused
	tx.Add(&knftables.Chain{Name: "dropped"})
	if s, err := transactionScript(tx); err == nil || !strings.Contains(err.Error(), "not run") {
		t.Fatalf("script %q, error %v; want the transaction refused", s, err)
	}
	good := knftables.NewFake(knftables.IPv4Family, NFTTable).NewTransaction()
	good.Add(&knftables.Table{})
	if s, err := transactionScript(good); err != nil || !strings.HasPrefix(s, "add table ip strom") {
		t.Fatalf("script %q, error %v", s, err)
	}
}

// The batched full sync of 500 services leaves in the kernel exactly
// the elements knftables' fake holds after the same transaction: batching
// changes how nft is told, not what.
func TestNFTBatchedSyncMatchesFake(t *testing.T) {
	requireRoot(t)
	ns := testNetns(t, fmt.Sprintf("spxb%d", os.Getpid()%100000))
	r, err := NewExecNFT("/var/run/netns/" + ns)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = CleanupNFT(r) }()
	ctx := context.Background()
	fake := knftables.NewFake(knftables.IPv4Family, NFTTable)
	state := benchState(500)
	real := renderNFT(r, state, benchConfig)
	if batched := batchElements(real.String(), nftBatch); strings.Count(batched, "\n") > real.NumOperations()/10 {
		t.Fatalf("%d operations batched into %d commands: not batched", real.NumOperations(), strings.Count(batched, "\n"))
	}
	if err := r.Run(ctx, real); err != nil {
		t.Fatalf("kernel: %v", err)
	}
	if err := fake.Run(ctx, renderNFT(fake, state, benchConfig)); err != nil {
		t.Fatalf("fake: %v", err)
	}
	elems := func(es []*knftables.Element) []string {
		out := make([]string, 0, len(es))
		for _, e := range es {
			out = append(out, strings.Join(e.Key, " . ")+" : "+strings.Join(e.Value, " . "))
		}
		slices.Sort(out)
		return out
	}
	checked := 0
	for typ, names := range map[string][]string{"map": keys(fake.Table.Maps), "set": keys(fake.Table.Sets)} {
		for _, name := range names {
			got, err := r.ListElements(ctx, typ, name)
			if err != nil {
				t.Fatalf("listing %s %s: %v", typ, name, err)
			}
			want, _ := fake.ListElements(ctx, typ, name)
			if g, w := elems(got), elems(want); !slices.Equal(g, w) {
				t.Errorf("%s %s: kernel has %d elements, fake %d; first kernel %q, fake %q", typ, name, len(g), len(w), first(g), first(w))
			}
			checked += len(want)
		}
	}
	if checked < 500*5 {
		t.Fatalf("compared %d elements, want at least the 2,500 backends", checked)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
