package front

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/store"
)

// legacyRoutesConfig is a site with a Low, a Medium and a High application
// in isolation mode mode; the Low one serves dir.
func legacyRoutesConfig(mode, dir string) *store.Config {
	iso := func(v string) *string { return &v }
	return &store.Config{Host: &store.HostSettings{IsolationMode: &mode}, Sites: []store.Site{{
		Name: "Main", ID: 1, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
		Applications: []store.Application{
			{Path: "/", ApplicationPool: "Root", PhysicalPath: dir},
			{Path: "/low", ApplicationPool: "Root", PhysicalPath: dir, AppIsolation: iso("Low")},
			{Path: "/high", ApplicationPool: "Root", PhysicalPath: dir, AppIsolation: iso("High")},
		}}}}
}

// TestBuildTableLegacy: in Legacy mode Medium applications route to the
// shared pool, High ones to their own, Low ones to a handler in the host;
// in WorkerProcess mode every application routes to its pool.
func TestBuildTableLegacy(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("static low\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		mode            string
		root, low, high string
		lowInHost       bool
	}{
		{"Legacy", apppool.LegacyMediumPool, "", "Legacy: High: Main/high", true},
		{"WorkerProcess", "Root", "Root", "Root", false},
	} {
		tbl := buildTable(legacyRoutesConfig(c.mode, dir), discardLogger)
		pr := tbl.ports[listenKey{addr: ":8080"}]
		if pr == nil {
			t.Fatalf("%s: no listener: %v", c.mode, keys(tbl))
		}
		for path, want := range map[string]string{"/x": c.root, "/low/a.txt": c.low, "/high/y": c.high} {
			_, app := pr.match(netip.Addr{}, "", path)
			if app == nil || app.pool != want || (app.low != nil) != (want == "") {
				t.Errorf("%s: %s routes to %+v, want pool %q", c.mode, path, app, want)
			}
		}
		_, low := pr.match(netip.Addr{}, "", "/low/a.txt")
		if !c.lowInHost {
			continue
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/low/a.txt", nil)
		(&Front{}).serveLow(rec, req, "Main", low.low)
		if rec.Code != 200 || rec.Body.String() != "static low\n" {
			t.Errorf("Low application in the host: %d %q", rec.Code, rec.Body.String())
		}
	}
}

// TestRerouteOnlyWhenRoutesMoved: a request refused by a stopped pool is
// routed again when the table changed since it was matched (here to a Low
// application, served in the host), and refused with 503 as before when
// the table is the same (an operator stopped the pool).
func TestRerouteOnlyWhenRoutesMoved(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte("moved\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m := apppool.NewManager(apppool.Launcher{LogDir: t.TempDir()}, nil, slog.New(slog.DiscardHandler))
	defer m.Shutdown(ctx)
	wp := legacyRoutesConfig("WorkerProcess", dir)
	wp.ApplicationPools = []store.AppPool{{Name: "Root"}}
	off := false
	wp.ApplicationPools[0].AutoStart = &off // a stopped pool
	if err := m.Reconcile(ctx, wp); err != nil {
		t.Fatal(err)
	}
	f := New(PoolsOf(m), slog.New(slog.DiscardHandler))
	f.routes.Store(buildTable(wp, discardLogger))
	key := listenKey{addr: ":8080"}
	get := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/low/a.txt", nil)
		f.serve(f.newExchange(rec, req, key), req, "Main", appPool{m.Pool("Root")})
		return rec
	}
	if rec := get(); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("stopped pool, same routes: %d %q, want 503", rec.Code, rec.Body.String())
	}
	// The routes move between the match and the pool's refusal.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/low/a.txt", nil)
	x := f.newExchange(rec, req, key)
	f.routes.Store(buildTable(legacyRoutesConfig("Legacy", dir), discardLogger))
	f.serve(x, req, "Main", appPool{m.Pool("Root")})
	if body, _ := io.ReadAll(rec.Body); rec.Code != 200 || strings.TrimSpace(string(body)) != "moved" {
		t.Errorf("stopped pool, routes moved: %d %q, want 200 from the new route", rec.Code, body)
	}
	if f.reroute(f.newExchange(httptest.NewRecorder(), req, key), req, apppool.ErrQueueFull) {
		t.Error("a full queue was routed again; only a stopped or removed pool is")
	}
}

// discardLogger is the logger of fronts and tables in tests.
var discardLogger = slog.New(slog.DiscardHandler)
