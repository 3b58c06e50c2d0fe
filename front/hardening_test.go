package front

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/poolctl/poolctl/store"
)

// startFront serves cfg's sites and returns the front; the listeners close
// at cleanup.
func startFront(t *testing.T, cfg *store.Config) *Front {
	t.Helper()
	f := New(noPools{}, slog.New(slog.DiscardHandler))
	if err := f.Apply(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Shutdown(t.Context()) })
	return f
}

// oneSite is a store with one site on a free loopback port, with an
// application at /blog only.
func oneSite(t *testing.T) (*store.Config, string) {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cfg := &store.Config{Version: store.FormatVersion, Sites: []store.Site{{Name: "S", ID: 1,
		Bindings:     []store.Binding{{Protocol: "http", BindingInformation: addr + ":"}},
		Applications: []store.Application{{Path: "/blog", ApplicationPool: "P"}}}}}
	return cfg, addr
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestUnroutedCountsSiteWithoutApplication (issue 9 item 20): a request
// that matches a site but none of its applications is unrouted too.
func TestUnroutedCountsSiteWithoutApplication(t *testing.T) {
	cfg, addr := oneSite(t)
	f := startFront(t, cfg)
	if code, _, _ := get(t, "http://"+addr+"/other"); code != 404 {
		t.Fatalf("GET /other = %d, want 404", code)
	}
	if n := f.Unrouted(); n != 1 {
		t.Fatalf("Unrouted() = %d after a request matching the site but no application, want 1", n)
	}
}

// TestErrorModeCustomHidesDetail (issue 9 item 4): under Custom the page
// has a short reason and a ref but not the detail (the site's name).
func TestErrorModeCustomHidesDetail(t *testing.T) {
	cfg, addr := oneSite(t)
	mode := "Custom"
	cfg.Host = &store.HostSettings{ErrorMode: &mode}
	startFront(t, cfg)
	code, body, hdr := get(t, "http://"+addr+"/other")
	ref := hdr.Get(RefHeader)
	if code != 404 || ref == "" || body != fmt.Sprintf("404 Not Found: no site or application matches this request\nref=%s\n", ref) {
		t.Fatalf("Custom error page: %d %q (ref %q)", code, body, ref)
	}
}

// TestShowDetail: which clients see the detail under each errorMode.
func TestShowDetail(t *testing.T) {
	for _, c := range []struct {
		mode, remote string
		want         bool
	}{
		{ErrorModeDetailedLocalOnly, "127.0.0.1:5000", true},
		{ErrorModeDetailedLocalOnly, "127.3.4.5:5000", true},
		{ErrorModeDetailedLocalOnly, "[::1]:5000", true},
		{ErrorModeDetailedLocalOnly, "[::ffff:127.0.0.1]:5000", true},
		{ErrorModeDetailedLocalOnly, "10.0.0.1:5000", false},
		{ErrorModeDetailedLocalOnly, "[2001:db8::1]:5000", false},
		{ErrorModeDetailedLocalOnly, "128.0.0.1:5000", false},
		{ErrorModeDetailedLocalOnly, "garbage", false},
		{ErrorModeDetailedLocalOnly, "", false},
		{ErrorModeDetailed, "10.0.0.1:5000", true},
		{ErrorModeCustom, "127.0.0.1:5000", false},
	} {
		if got := showDetail(c.mode, c.remote); got != c.want {
			t.Errorf("showDetail(%s, %q) = %v, want %v", c.mode, c.remote, got, c.want)
		}
	}
}

// TestStripPrivate: every spelling of a front-set header goes, and so do
// Connection tokens naming one; other headers and tokens stay.
func TestStripPrivate(t *testing.T) {
	h := http.Header{
		"X-Poolctl-Site": {"a"}, "X_poolctl_site": {"b"}, "X-POOLCTL-Other": {"c"},
		"X-Poolctl": {"keep"}, "Accept": {"*/*"},
		"Connection": {"keep-alive, X-Poolctl-Site", "x_poolctl_site,Foo"},
	}
	stripPrivate(h)
	want := http.Header{"X-Poolctl": {"keep"}, "Accept": {"*/*"}, "Connection": {"keep-alive, Foo"}}
	if fmt.Sprint(h) != fmt.Sprint(want) {
		t.Fatalf("after stripPrivate: %v, want %v", h, want)
	}
	h = http.Header{"Connection": {"X-Poolctl-Site"}}
	stripPrivate(h)
	if len(h) != 0 {
		t.Fatalf("a Connection naming only a private header: %v, want it removed", h)
	}
}

// TestSiteLimitsDefaults: an unset limits section resolves to IIS's
// defaults.
func TestSiteLimitsDefaults(t *testing.T) {
	got := readSiteLimits(&store.Site{Name: "S"})
	if got.timeout != 2*time.Minute || got.minRate != 240 || got.maxConns < 1<<31 {
		t.Fatalf("defaults %+v", got)
	}
	hl := readHostLimits(&store.Config{})
	if hl.perClient != 256 || hl.errorMode != ErrorModeDetailedLocalOnly || !hl.autoMaxConns {
		t.Fatalf("host defaults %+v", hl)
	}
}
