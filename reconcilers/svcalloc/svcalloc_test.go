package svcalloc

import (
	"testing"
	"time"

	"github.com/strom-project/strom/events/alloc"
)

func TestStale(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	old := now.Add(-time.Minute)
	claims := []ClaimEntry{
		{Key: "ip.10-43-0-20", Claim: alloc.Claim{Namespace: "default", Name: "web", Time: old}},     // held
		{Key: "nodeport.30001", Claim: alloc.Claim{Namespace: "default", Name: "web", Time: old}},    // no longer held by web
		{Key: "ip.10-43-0-21", Claim: alloc.Claim{Namespace: "default", Name: "gone", Time: old}},    // service gone
		{Key: "ip.10-43-0-22", Claim: alloc.Claim{Namespace: "default", Name: "writing", Time: now}}, // too young
		{Key: "ip.10-43-0-23", Claim: alloc.Claim{Namespace: "other", Name: "web", Time: old}},       // other namespace
	}
	held := map[string]map[string]bool{"default/web": {"ip.10-43-0-20": true}}
	got := Stale(claims, held, now, 30*time.Second)
	var keys []string
	for _, c := range got {
		keys = append(keys, c.Key)
	}
	want := []string{"nodeport.30001", "ip.10-43-0-21", "ip.10-43-0-23"}
	if len(keys) != len(want) {
		t.Fatalf("stale %v, want %v", keys, want)
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Fatalf("stale %v, want %v", keys, want)
		}
	}
}
