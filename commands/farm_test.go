package commands

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/farm"
)

func TestBackgroundMessage(t *testing.T) {
	one := backgroundMessage(farm.Ack{Live: []string{"h1", "h2", "h3"}, Pending: []string{"h3"}})
	if want := "saved; 1 of 3 hosts (h3) applies it in the background"; !bytes.HasPrefix([]byte(one), []byte(want)) {
		t.Errorf("got %q, want it to start with %q", one, want)
	}
	two := backgroundMessage(farm.Ack{Live: []string{"h1", "h2", "h3"}, Pending: []string{"h2", "h3"}})
	if want := "saved; 2 of 3 hosts (h2, h3) apply it in the background"; !bytes.HasPrefix([]byte(two), []byte(want)) {
		t.Errorf("got %q, want it to start with %q", two, want)
	}
}

// TestHostView: a farm listing has a HOST column first and a host field in
// /json, and every property of the single-host view reads through.
func TestHostView(t *testing.T) {
	v := hostView(wpView())
	if v.props[0].header != "HOST" {
		t.Fatalf("first column %q, want HOST", v.props[0].header)
	}
	r := row{v: v, id: "42", obj: onHost{host: "h2", obj: hostapi.WorkerStatus{PID: 42, Pool: "Shop"}}}
	var b bytes.Buffer
	if err := render(&b, v, []row{r}, outputMode{json: true}); err != nil {
		t.Fatal(err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if out[0]["host"] != "h2" || out[0]["apppool"].(map[string]any)["name"] != "Shop" {
		t.Errorf("json %v", out[0])
	}
	p, ok := v.lookup("host")
	if !ok || r.text(p) != "h2" {
		t.Errorf("host property: %v", ok)
	}
}
