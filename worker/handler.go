package worker

import (
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// ServerHeader is the value of the Server header on every response.
const ServerHeader = "poolctl-worker"

// SiteHeader names the site a request came to. The host sets it on every
// request it forwards (replacing any the client sent), so a worker serving
// applications of several sites with the same path picks the right one.
const SiteHeader = "X-Poolctl-Site"

// handler serves a validated Spec.
type handler struct {
	apps    []app    // longest path first
	docs    []string // default documents, in order
	cgiExts []string // lower case, with the leading dot
	inherit []string // environment variable names CGI scripts inherit
	logger  *slog.Logger
}

// app is an application with its directories, longest path first.
type app struct {
	site  string
	path  string // "/" or "/blog" (no trailing slash)
	roots []root
}

// root maps a URL path below an application to a directory.
type root struct {
	path     string // "/" or "/img" (relative to the application)
	physical string
	bad      error // why physical cannot be served (answered with 500)
}

// target is where a request path lands.
type target struct {
	app  *app
	root *root
	base string   // the request's own spelling of app path + root path
	segs []string // the path below root.physical, one entry per segment
	dir  bool     // the request path ended with "/"
}

// Handler returns the http.Handler serving spec. Requests are mapped by
// the longest matching application path, then the longest matching virtual
// directory below it (an application's physicalPath is its root), to a
// file. Files whose extension is one of spec.CGIExtensions run as CGI;
// others are served with http.ServeContent for GET and HEAD. When two
// applications of different sites have the same path, the host's
// SiteHeader picks the site's own (without it, the first in spec). A
// directory whose physical path is empty or relative answers 500 (logged
// here and per request) without stopping the rest. A nil logger discards.
func Handler(spec Spec, logger *slog.Logger) (http.Handler, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := spec.Validate(); err != nil {
		return nil, fmt.Errorf("worker spec: %w", err)
	}
	h := &handler{logger: logger, docs: slices.Clone(spec.DefaultDocuments), inherit: inheritedEnv()}
	for _, e := range spec.CGIExtensions {
		h.cgiExts = append(h.cgiExts, "."+strings.ToLower(strings.TrimLeft(e, ".")))
	}
	for _, a := range spec.Applications {
		p := trimSlash(a.Path)
		if slices.ContainsFunc(h.apps, func(o app) bool { return strings.EqualFold(o.path, p) && strings.EqualFold(o.site, a.Site) }) {
			logger.Warn("an application is listed twice; the worker serves the first", "path", p, "site", a.Site)
			continue
		}
		h.apps = append(h.apps, newApp(a))
		for _, r := range h.apps[len(h.apps)-1].roots {
			if r.bad != nil {
				logger.Error("cannot serve a directory of an application; its requests get 500",
					"site", a.Site, "app", a.Path, "vdir", r.path, "err", r.bad)
			}
		}
	}
	slices.SortStableFunc(h.apps, func(x, y app) int { return len(y.path) - len(x.path) })
	return h, nil
}

func newApp(a App) app {
	out := app{site: a.Site, path: trimSlash(a.Path)}
	add := func(p, physical string) {
		if slices.ContainsFunc(out.roots, func(r root) bool { return strings.EqualFold(r.path, p) }) {
			return
		}
		if err := checkPhysical(physical); err != nil {
			out.roots = append(out.roots, root{path: p, bad: fmt.Errorf("physicalPath: %w", err)})
			return
		}
		out.roots = append(out.roots, root{path: p, physical: filepath.Clean(physical)})
	}
	for _, v := range a.VirtualDirectories {
		add(trimSlash(v.Path), v.PhysicalPath)
	}
	add("/", a.PhysicalPath)
	slices.SortStableFunc(out.roots, func(x, y root) int { return len(y.path) - len(x.path) })
	return out
}

func trimSlash(p string) string {
	if p = strings.TrimRight(p, "/"); p == "" {
		return "/"
	}
	return p
}

// ServeHTTP checks the path, maps it and serves CGI or a static file.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", ServerHeader)
	clean, status := checkPath(r)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	t, ok := h.mapPath(clean, r.Header.Get(SiteHeader))
	if !ok || hidden(t.segs) {
		http.NotFound(w, r)
		return
	}
	if t.root.bad != nil {
		h.logger.Error("request for a directory that cannot be served", "path", r.URL.Path,
			"site", t.app.site, "app", t.app.path, "vdir", t.root.path, "err", t.root.bad)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	h.serve(w, r, clean, t)
}

// checkPath returns the cleaned request path, or the status refusing it.
func checkPath(r *http.Request) (string, int) {
	p := r.URL.Path
	if !strings.HasPrefix(p, "/") || strings.ContainsAny(p, "\x00\\") {
		return "", http.StatusBadRequest
	}
	raw := strings.ToLower(r.URL.EscapedPath())
	if strings.Contains(raw, "%2f") || strings.Contains(raw, "%5c") || strings.Contains(raw, "%00") {
		return "", http.StatusBadRequest
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return "", http.StatusBadRequest
		}
	}
	clean := path.Clean(p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean, 0
}

// hidden reports whether a segment starts with "." (".well-known" aside).
func hidden(segs []string) bool {
	return slices.ContainsFunc(segs, func(s string) bool {
		return strings.HasPrefix(s, ".") && s != ".well-known"
	})
}

// cutPrefix matches prefix against p on whole segments, ignoring case, and
// returns the part of p after it ("" or starting with "/").
func cutPrefix(p, prefix string) (string, bool) {
	if prefix == "/" {
		return p, true
	}
	n := len(prefix)
	if len(p) < n || !strings.EqualFold(p[:n], prefix) || (len(p) > n && p[n] != '/') {
		return "", false
	}
	return p[n:], true
}

// mapPath finds the application and directory for a cleaned path: among
// the applications of site when the host named one, else among all.
func (h *handler) mapPath(clean, site string) (target, bool) {
	if site != "" && slices.ContainsFunc(h.apps, func(a app) bool { return strings.EqualFold(a.site, site) }) {
		return h.mapIn(clean, func(a *app) bool { return strings.EqualFold(a.site, site) })
	}
	return h.mapIn(clean, func(*app) bool { return true })
}

func (h *handler) mapIn(clean string, ok func(*app) bool) (target, bool) {
	for i := range h.apps {
		a := &h.apps[i]
		if !ok(a) {
			continue
		}
		rest, ok := cutPrefix(clean, a.path)
		if !ok {
			continue
		}
		for j := range a.roots {
			sub, ok := cutPrefix(rest, a.roots[j].path)
			if !ok {
				continue
			}
			t := target{app: a, root: &a.roots[j], base: clean[:len(clean)-len(sub)], dir: strings.HasSuffix(clean, "/")}
			for s := range strings.SplitSeq(sub, "/") {
				if s != "" {
					t.segs = append(t.segs, s)
				}
			}
			return t, true
		}
		return target{}, false
	}
	return target{}, false
}

// urlOf is the URL path of the first n segments of t.
func (t target) urlOf(n int) string {
	return strings.TrimSuffix(t.base, "/") + "/" + strings.Join(t.segs[:n], "/")
}

// isCGI reports whether name's extension is a CGI extension.
func (h *handler) isCGI(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext != "" && slices.Contains(h.cgiExts, ext)
}
