// Package front is the host's HTTP front: it listens on every binding of
// every started site, matches each request to a site by the connection's
// local address and the Host header, then to the application with the
// longest path prefix, and hands it to that application's pool.
package front

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/poolctl/poolctl/accesslog"
	"github.com/poolctl/poolctl/store"
)

// table is an immutable routing snapshot; the front swaps it atomically.
type table struct {
	ports map[listenKey]*portRoutes
	host  hostLimits // the host section's limits and error mode
}

// listenKey identifies a listener: the address it binds (":8080" for any
// address) and whether it speaks TLS.
type listenKey struct {
	addr string
	tls  bool
}

// portRoutes are the bindings served by one listener.
type portRoutes struct {
	bindings    []bindingRoute // exact hosts first, then any-host bindings
	certs       []certPair     // https: certificate per host name
	idleTimeout time.Duration  // the longest limits.connectionTimeout of its sites
}

type certPair struct {
	host, certFile, keyFile string
}

// bindingRoute is one binding of a site: which local address and Host it
// accepts.
type bindingRoute struct {
	ip   netip.Addr // invalid for '*'
	host string     // lower case; "" matches any Host
	site *siteRoute
}

type siteRoute struct {
	name   string
	key    string         // lower-case name, for the connection table
	hdr    []string       // {name}, the value of the worker's site header (shared: never written to)
	apps   []appRoute     // longest path first
	log    *accesslog.Log // the site's access log; nil for none
	limits siteLimits
}

type appRoute struct {
	path    string // lower case: "/", "/blog"
	pool    string
	poolKey string       // lower-case pool, to find it without a conversion per request
	low     http.Handler // Legacy mode: a Low application, served in the host (legacy.go)
}

// buildTable computes the routes of every started site. Bindings of one
// port share a listener: on a port where any binding takes any address the
// listener takes any address too, and routing checks the local address.
func buildTable(cfg *store.Config, logger *slog.Logger) *table {
	t := &table{ports: map[listenKey]*portRoutes{}, host: readHostLimits(cfg)}
	type bound struct {
		ep   store.Endpoint
		b    store.Binding
		site *siteRoute
	}
	var all []bound
	wildPort := map[uint16]bool{}
	for i := range cfg.Sites {
		s := &cfg.Sites[i]
		if s.ServerAutoStart != nil && !*s.ServerAutoStart {
			continue
		}
		sr := &siteRoute{name: s.Name, key: siteKey(s.Name), hdr: []string{s.Name}, limits: readSiteLimits(s)}
		for _, a := range s.Applications {
			if cfg.LegacyIsolation() {
				sr.apps = append(sr.apps, legacyRoute(s.Name, a, logger))
				continue
			}
			sr.apps = append(sr.apps, appRoute{path: strings.ToLower(a.Path), pool: a.ApplicationPool,
				poolKey: strings.ToLower(a.ApplicationPool)})
		}
		sort.Slice(sr.apps, func(i, j int) bool { return len(sr.apps[i].path) > len(sr.apps[j].path) })
		for _, b := range s.Bindings {
			ep, err := store.ParseBindingInformation(b.BindingInformation)
			if err != nil {
				continue // the store validated it; a bad one cannot get here
			}
			all = append(all, bound{ep, b, sr})
			if ep.IP == "*" {
				wildPort[ep.Port] = true
			}
		}
	}
	for _, x := range all {
		key := listenKey{addr: x.ep.Addr(), tls: x.b.Protocol == "https"}
		br := bindingRoute{host: x.ep.Host, site: x.site}
		if x.ep.IP != "*" {
			br.ip = netip.MustParseAddr(x.ep.IP)
			if wildPort[x.ep.Port] {
				key.addr = store.Endpoint{IP: "*", Port: x.ep.Port}.Addr()
			}
		}
		pr := t.ports[key]
		if pr == nil {
			pr = &portRoutes{}
			t.ports[key] = pr
		}
		pr.bindings = append(pr.bindings, br)
		pr.idleTimeout = max(pr.idleTimeout, x.site.limits.timeout)
		if key.tls {
			pr.certs = append(pr.certs, certPair{host: x.ep.Host, certFile: x.b.CertificateFile, keyFile: x.b.KeyFile})
		}
	}
	for _, pr := range t.ports {
		sort.SliceStable(pr.bindings, func(i, j int) bool {
			a, b := pr.bindings[i], pr.bindings[j]
			if (a.host != "") != (b.host != "") {
				return a.host != ""
			}
			return a.ip.IsValid() && !b.ip.IsValid()
		})
	}
	return t
}

// match finds the site and application for a request on a listener.
func (pr *portRoutes) match(local netip.Addr, hostHeader, path string) (*siteRoute, *appRoute) {
	host := strings.ToLower(hostHeader)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	local = local.Unmap()
	for i := range pr.bindings {
		b := &pr.bindings[i]
		if b.ip.IsValid() && b.ip != local {
			continue
		}
		if b.host != "" && b.host != host {
			continue
		}
		return b.site, b.site.app(path)
	}
	return nil, nil
}

// app returns the application with the longest path prefix of path.
func (s *siteRoute) app(path string) *appRoute {
	for i := range s.apps {
		a := &s.apps[i]
		if a.path == "/" || hasPathPrefixFold(path, a.path) {
			return a
		}
	}
	return nil
}

func hasPathPrefixFold(path, prefix string) bool {
	if len(path) < len(prefix) || !strings.EqualFold(path[:len(prefix)], prefix) {
		return false
	}
	return len(path) == len(prefix) || path[len(prefix)] == '/'
}

// ListenKeys lists the listeners cfg asks for, sorted: "http ADDR" or
// "https ADDR" per listener (bindings of one port share one). It is a pure
// function of cfg, for the host's plan.
func ListenKeys(cfg *store.Config) []string {
	t := buildTable(cfg, slog.New(slog.DiscardHandler))
	out := make([]string, 0, len(t.ports))
	for key := range t.ports {
		out = append(out, key.String())
	}
	sort.Strings(out)
	return out
}

// String is "http ADDR" or "https ADDR".
func (k listenKey) String() string {
	if k.tls {
		return "https " + k.addr
	}
	return "http " + k.addr
}
