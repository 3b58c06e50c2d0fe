package front

import (
	"net/netip"
	"testing"

	"github.com/poolctl/poolctl/store"
)

func routesConfig() *store.Config {
	off := false
	return &store.Config{Sites: []store.Site{
		{Name: "Main", ID: 1, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:8080:"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "Root"}, {Path: "/mkt", ApplicationPool: "Mkt"}, {Path: "/mkt/eu", ApplicationPool: "Eu"}}},
		{Name: "Shop", ID: 2, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:8080:shop.example"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "Shop"}}},
		{Name: "Local", ID: 3, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "127.0.0.2:8080:"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "Local"}}},
		{Name: "Own", ID: 4, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "127.0.0.1:9090:"}},
			Applications: []store.Application{{Path: "/api", ApplicationPool: "Api"}}},
		{Name: "Off", ID: 5, ServerAutoStart: &off, Bindings: []store.Binding{{Protocol: "http", BindingInformation: "*:7070:"}},
			Applications: []store.Application{{Path: "/", ApplicationPool: "Off"}}},
	}}
}

// TestBuildTableListeners: bindings of one port share a listener, which
// takes any address when one binding does; stopped sites listen nowhere.
func TestBuildTableListeners(t *testing.T) {
	tbl := buildTable(routesConfig(), discardLogger)
	want := map[listenKey]int{{addr: ":8080"}: 3, {addr: "127.0.0.1:9090"}: 1}
	if len(tbl.ports) != len(want) {
		t.Fatalf("listeners %v, want %v", keys(tbl), want)
	}
	for k, n := range want {
		if pr := tbl.ports[k]; pr == nil || len(pr.bindings) != n {
			t.Errorf("listener %v: %v, want %d bindings", k, pr, n)
		}
	}
}

func keys(t *table) []listenKey {
	var out []listenKey
	for k := range t.ports {
		out = append(out, k)
	}
	return out
}

// TestMatch: a binding with a host name wins over one without, a binding
// with an address only takes connections to it, and the longest
// application path prefix wins, on whole segments and in any case.
func TestMatch(t *testing.T) {
	tbl := buildTable(routesConfig(), discardLogger)
	wild := tbl.ports[listenKey{addr: ":8080"}]
	own := tbl.ports[listenKey{addr: "127.0.0.1:9090"}]
	lo := netip.MustParseAddr("127.0.0.1")
	lo2 := netip.MustParseAddr("127.0.0.2")
	tests := []struct {
		name       string
		pr         *portRoutes
		local      netip.Addr
		host, path string
		site, pool string // "" = no match
	}{
		{"root", wild, lo, "localhost:8080", "/", "Main", "Root"},
		{"app prefix", wild, lo, "localhost", "/mkt/page", "Main", "Mkt"},
		{"longest prefix", wild, lo, "localhost", "/mkt/eu/x", "Main", "Eu"},
		{"case-insensitive path", wild, lo, "localhost", "/MKT/EU", "Main", "Eu"},
		{"whole segments only", wild, lo, "localhost", "/mktx", "Main", "Root"},
		{"host binding wins", wild, lo, "Shop.Example:8080", "/mkt", "Shop", "Shop"},
		{"trailing dot host", wild, lo, "shop.example.", "/", "Shop", "Shop"},
		{"address binding", wild, lo2, "localhost", "/", "Local", "Local"},
		{"IPv4-mapped local address", wild, netip.MustParseAddr("::ffff:127.0.0.2"), "x", "/", "Local", "Local"},
		{"no root application", own, lo, "x", "/", "Own", ""},
		{"app below root only", own, lo, "x", "/api/v1", "Own", "Api"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, app := tt.pr.match(tt.local, tt.host, tt.path)
			gotSite, gotPool := "", ""
			if site != nil {
				gotSite = site.name
			}
			if app != nil {
				gotPool = app.pool
			}
			if gotSite != tt.site || gotPool != tt.pool {
				t.Errorf("match(%s, %q, %q) = site %q pool %q, want %q %q", tt.local, tt.host, tt.path, gotSite, gotPool, tt.site, tt.pool)
			}
		})
	}
}
