package events_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/strom-project/strom/events"
)

func TestRedactObject(t *testing.T) {
	in := []byte(`{"kind":"Secret","metadata":{"name":"db"},"data":{"pw":"czNjcmV0"},"stringData":{"x":"plain"}}`)
	out := string(events.RedactObject("secrets", in))
	if strings.Contains(out, "czNjcmV0") || strings.Contains(out, "plain") || !strings.Contains(out, `"pw":"\u003credacted\u003e"`) && !strings.Contains(out, `"pw":"<redacted>"`) {
		t.Fatalf("redacted: %s", out)
	}
	cm := []byte(`{"data":{"k":"v"}}`)
	if got := events.RedactObject("configmaps", cm); !bytes.Equal(got, cm) {
		t.Fatalf("configmap changed: %s", got)
	}
	if got := events.RedactObject("secrets", []byte{1, 2, 3}); got != nil {
		t.Fatalf("sealed bytes not dropped: %v", got)
	}
}
