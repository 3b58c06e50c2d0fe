package worker

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// MaxCGIBody is the largest request body given to a CGI script, IIS's
// default requestLimits maxAllowedContentLength; larger bodies get 413.
const MaxCGIBody = 30_000_000

// notInherited are worker variables and CGI meta-variables that a CGI
// script must not inherit from the worker: the former are the worker's
// own, the latter come from the request.
var notInherited = []string{
	PortEnv, ListenEnv, SpecEnv, "PATH",
	"AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "DOCUMENT_ROOT", "GATEWAY_INTERFACE", "HTTPS",
	"PATH_INFO", "PATH_TRANSLATED", "QUERY_STRING", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT",
	"REMOTE_PORT", "REMOTE_USER", "REQUEST_METHOD", "REQUEST_URI", "SCRIPT_FILENAME", "SCRIPT_NAME",
	"SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "SERVER_SOFTWARE", "APP_POOL_ID", "APPL_PHYSICAL_PATH",
}

// inheritedEnv names the worker's environment variables that CGI scripts
// inherit: all of them (the pool's environment variables among them, as
// w3wp's environment reaches IIS CGI processes) except notInherited and
// HTTP_*.
func inheritedEnv() []string {
	var names []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if name == "" || strings.HasPrefix(name, "HTTP_") || slices.Contains(notInherited, name) {
			continue
		}
		names = append(names, name)
	}
	return names
}

// serveCGI runs the script f for r. urlPath is the request path the
// script sees (the cleaned path, or the default document's path) and
// scriptURL its SCRIPT_NAME; the rest of urlPath is PATH_INFO.
func (h *handler) serveCGI(w http.ResponseWriter, r *http.Request, urlPath, scriptURL string, t target, f resolved) {
	script := f.abs()
	log := h.logger.With("script", script, "path", r.URL.Path, "site", t.app.site)
	if f.info.Mode().Perm()&0o111 == 0 {
		log.Error("CGI script is not executable (chmod +x it)")
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	req, done, ok := h.cgiRequest(w, r, log)
	if !ok {
		return
	}
	defer done()
	u := *r.URL
	u.Path, u.RawPath = urlPath, ""
	req.URL = &u
	ch := &cgi.Handler{
		Path:       script,
		Dir:        filepath.Dir(script),
		Root:       scriptURL,
		Env:        h.cgiEnv(r, t),
		InheritEnv: h.inherit,
		Logger:     slog.NewLogLogger(log.Handler(), slog.LevelError),
	}
	ch.ServeHTTP(w, req)
}

// cgiRequest returns a shallow copy of r whose body has a known length:
// net/http/cgi refuses chunked bodies, so a body of unknown length is
// spooled to an unlinked temporary file first. It answers 413 for a body
// over MaxCGIBody and returns ok=false when it has answered.
func (h *handler) cgiRequest(w http.ResponseWriter, r *http.Request, log *slog.Logger) (req *http.Request, done func(), ok bool) {
	if r.ContentLength > MaxCGIBody {
		http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
		return nil, nil, false
	}
	req = r.WithContext(r.Context())
	if r.ContentLength >= 0 && len(r.TransferEncoding) == 0 {
		return req, func() {}, true
	}
	tmp, err := os.CreateTemp("", "poolctl-cgi-body-*")
	if err != nil {
		log.Error("cannot spool the request body", "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return nil, nil, false
	}
	_ = os.Remove(tmp.Name()) // unlinked: the open file is all that is left
	n, err := io.Copy(tmp, io.LimitReader(r.Body, MaxCGIBody+1))
	status := 0
	switch {
	case err != nil:
		log.Warn("cannot read the request body", "err", err)
		status = http.StatusBadRequest
	case n > MaxCGIBody:
		status = http.StatusRequestEntityTooLarge
	default:
		if _, err = tmp.Seek(0, io.SeekStart); err != nil {
			log.Error("cannot rewind the spooled request body", "err", err)
			status = http.StatusInternalServerError
		}
	}
	if status != 0 {
		_ = tmp.Close()
		http.Error(w, http.StatusText(status), status)
		return nil, nil, false
	}
	req.Body, req.ContentLength, req.TransferEncoding = tmp, n, nil
	return req, func() { _ = tmp.Close() }, true
}

// cgiEnv is what a script sees beyond net/http/cgi's variables: the
// worker's name, the application's physical path, IIS's APP_POOL_ID, the
// original REQUEST_URI, and, when the request came from the host (a
// loopback or unix-socket peer), the client's address and scheme from
// X-Forwarded-For and X-Forwarded-Proto.
func (h *handler) cgiEnv(r *http.Request, t target) []string {
	appRoot := t.app.roots[len(t.app.roots)-1].physical // the "/" root sorts last
	env := []string{"SERVER_SOFTWARE=" + ServerHeader}
	if appRoot != "" {
		env = append(env, "DOCUMENT_ROOT="+appRoot, "APPL_PHYSICAL_PATH="+strings.TrimSuffix(appRoot, "/")+"/")
	}
	if r.RequestURI != "" {
		env = append(env, "REQUEST_URI="+r.RequestURI)
	}
	if pool := os.Getenv(AppPoolEnv); pool != "" {
		env = append(env, "APP_POOL_ID="+pool)
	}
	if !fromHost(r.RemoteAddr) {
		return env
	}
	if ip := lastForwardedFor(r.Header.Values("X-Forwarded-For")); ip != "" {
		env = append(env, "REMOTE_ADDR="+ip, "REMOTE_HOST="+ip)
	}
	if strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		env = append(env, "HTTPS=on")
		if _, _, err := net.SplitHostPort(r.Host); err != nil {
			env = append(env, "SERVER_PORT=443")
		}
	}
	return env
}

// fromHost reports whether the peer is the host: a loopback address, or a
// unix socket (no IP address at all).
func fromHost(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// lastForwardedFor is the last address in X-Forwarded-For: the one the
// host appended for the client it saw.
func lastForwardedFor(values []string) string {
	if len(values) == 0 {
		return ""
	}
	last := values[len(values)-1]
	if i := strings.LastIndexByte(last, ','); i >= 0 {
		last = last[i+1:]
	}
	last = strings.TrimSpace(last)
	if net.ParseIP(last) == nil {
		return ""
	}
	return last
}
