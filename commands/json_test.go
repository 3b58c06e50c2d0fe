package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/poolctl/poolctl/runstate"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// numberLike is a string a /json consumer would have to convert: a number
// or a boolean written as text.
var numberLike = regexp.MustCompile(`^(-?[0-9]+(\.[0-9]+)?|true|false)$`)

// stringlyLeaves returns the dotted paths of string leaves of a decoded
// JSON value that hold a number or a boolean as text.
func stringlyLeaves(path string, v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			out = append(out, stringlyLeaves(path+"."+k, e)...)
		}
	case []any:
		for _, e := range x {
			out = append(out, stringlyLeaves(path+"[]", e)...)
		}
	case string:
		if numberLike.MatchString(x) {
			out = append(out, path+" = "+x)
		}
	}
	return out
}

// TestJSONTypes: every object's /json output writes numbers and booleans
// as JSON numbers and booleans, never as strings. The sample objects have
// names and texts that are not numbers, so a numeric-looking string can
// only be a number that was formatted as text.
func TestJSONTypes(t *testing.T) {
	cfg := &store.Config{
		Version:          store.FormatVersion,
		ApplicationPools: []store.AppPool{{Name: "Sales"}},
		Sites: []store.Site{{Name: "Shop", ID: 7,
			Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "Sales", PhysicalPath: "/srv/www",
				VirtualDirectories: []store.VirtualDirectory{{Path: "/img", PhysicalPath: "/srv/img"}}}},
		}},
	}
	site := &cfg.Sites[0]
	app := &site.Applications[0]
	started := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	worker := hostapi.WorkerStatus{PID: 4242, ID: 3, Pool: "Sales", State: runstate.WorkerReady, Addr: "unix:/run/w.sock",
		Identity: "pool-sales", Started: started, Requests: 144, InFlight: 2, PrivateKB: 2048, VirtualKB: 8192, CPUSeconds: 1.5}
	rt := &hostapi.PoolStatus{Name: "Sales", State: runstate.PoolStarted, Queue: 1, Served: 144, Workers: []hostapi.WorkerStatus{worker}}
	cases := []struct {
		name string
		v    *view
		obj  any
	}{
		{"apppool", apppoolView(), &poolObj{cfg: cfg, pool: &cfg.ApplicationPools[0], apps: []string{"Shop/"}, rt: rt}},
		{"apppool without host", apppoolView(), &poolObj{cfg: cfg, pool: &cfg.ApplicationPools[0]}},
		{"site", siteView(nil), site},
		{"app", appView(), &appObj{site: site, app: app}},
		{"vdir", vdirView(), &vdirObj{site: site, app: app, vdir: &app.VirtualDirectories[0]}},
		{"backup", backupView(), store.Backup{Name: "before-upgrade", Time: started, Path: "/etc/poolctl/backup/before-upgrade.toml"}},
		{"wp", wpView(), worker},
		{"request", requestView(), hostapi.RequestStatus{ID: 0xabc, Method: "GET", URL: "/x", Client: "127.0.0.1:5555", Site: "Shop", Pool: "Sales", WorkerPID: 4242, ElapsedMS: 12}},
		{"queued request", requestView(), hostapi.RequestStatus{ID: 0xabd, Method: "GET", URL: "/y", Client: "127.0.0.1:5556", Site: "Shop", Pool: "Sales", ElapsedMS: 3}},
		{"event", eventView(), events.Event{Time: started, ID: 5002, Pool: "Sales", PID: 4242, Worker: "w3", Reason: "rapid-fail"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := renderJSON(&b, []row{{v: c.v, id: "x", obj: c.obj}}, outputMode{json: true}); err != nil {
				t.Fatal(err)
			}
			var got any
			if err := json.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatalf("invalid JSON: %v\n%s", err, b.String())
			}
			if bad := stringlyLeaves(c.name, got); len(bad) > 0 {
				t.Errorf("numbers or booleans written as strings:\n  %s", strings.Join(bad, "\n  "))
			}
		})
	}
	// list config goes through the command: its view is built there.
	t.Run("config", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "applicationHost.toml")
		for _, sec := range []string{"applicationPools", "configHistory", "host"} {
			var out, errb bytes.Buffer
			code := Main(context.Background(), []string{"poolctl", "--config", path, "list", "config", "/section:" + sec, "/json"}, strings.NewReader(""), &out, &errb)
			if code != 0 {
				t.Fatalf("list config %s: exit %d: %s", sec, code, errb.String())
			}
			var got any
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("invalid JSON: %v\n%s", err, out.String())
			}
			if bad := stringlyLeaves(sec, got); len(bad) > 0 {
				t.Errorf("numbers or booleans written as strings:\n  %s", strings.Join(bad, "\n  "))
			}
		}
	})
}
