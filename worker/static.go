package worker

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// errEscapes marks a path whose symbolic links lead outside its root.
var errEscapes = errors.New("resolves outside the physical path")

// errHidden marks a path whose symbolic links lead to a dot-file or into a
// dot-directory below its root (".well-known" aside).
var errHidden = errors.New("resolves to a hidden file or directory")

// resolved is a file found below a root, symbolic links evaluated.
type resolved struct {
	realRoot string      // the root directory, symbolic links evaluated
	rel      string      // the file relative to realRoot ("." for the root)
	info     fs.FileInfo // what rel is
}

// abs is the resolved file's absolute path.
func (f resolved) abs() string { return filepath.Join(f.realRoot, f.rel) }

// resolve finds segs below dir, following symbolic links only while they
// stay inside dir and do not lead to a hidden path (a segment starting
// with ".", see hidden) below it: the request path is checked for dot
// segments before, this catches a link such as cfg -> .git/config.
func resolve(dir string, segs []string) (resolved, error) {
	realRoot, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return resolved{}, fmt.Errorf("physical path %s: %w", dir, err)
	}
	real, err := filepath.EvalSymlinks(filepath.Join(append([]string{realRoot}, segs...)...))
	if err != nil {
		return resolved{}, fmt.Errorf("resolve: %w", err)
	}
	rel, err := filepath.Rel(realRoot, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return resolved{}, fmt.Errorf("%s -> %s: %w", filepath.Join(segs...), real, errEscapes)
	}
	if rel != "." && hidden(strings.Split(rel, string(filepath.Separator))) {
		return resolved{}, fmt.Errorf("%s -> %s: %w", filepath.Join(segs...), real, errHidden)
	}
	info, err := os.Stat(real)
	if err != nil {
		return resolved{}, fmt.Errorf("stat: %w", err)
	}
	return resolved{realRoot: realRoot, rel: rel, info: info}, nil
}

// fail answers a resolution error: missing → 404, escaping or hidden →
// 404 with a warning, permission → 403 with a warning, anything else → 500.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, syscall.ENAMETOOLONG):
		h.logger.Debug("not found", "path", r.URL.Path, "err", err)
		http.NotFound(w, r)
	case errors.Is(err, errEscapes):
		h.logger.Warn("refused a symbolic link leading outside the physical path", "path", r.URL.Path, "err", err)
		http.NotFound(w, r)
	case errors.Is(err, errHidden):
		h.logger.Warn("refused a symbolic link leading to a hidden file or directory", "path", r.URL.Path, "err", err)
		http.NotFound(w, r)
	case errors.Is(err, fs.ErrPermission):
		h.logger.Warn("permission denied", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
	default:
		h.logger.Error("cannot serve", "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
	}
}

// serve dispatches a mapped request: a CGI script anywhere along the path
// (the rest is PATH_INFO), a directory (redirect, default document or
// 403), or a regular file.
func (h *handler) serve(w http.ResponseWriter, r *http.Request, clean string, t target) {
	for i, seg := range t.segs {
		if !h.isCGI(seg) {
			continue
		}
		f, err := resolve(t.root.physical, t.segs[:i+1])
		if err == nil && f.info.Mode().IsRegular() {
			h.serveCGI(w, r, clean, t.urlOf(i+1), t, f)
			return
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			h.fail(w, r, err)
			return
		}
	}
	f, err := resolve(t.root.physical, t.segs)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	switch {
	case f.info.IsDir():
		h.serveDir(w, r, clean, t)
	case !f.info.Mode().IsRegular() || t.dir:
		http.NotFound(w, r)
	default:
		h.serveFile(w, r, f)
	}
}

// serveDir redirects to the slash form, then serves the first default
// document that exists; without one the answer is 403, as IIS answers
// when directory browsing is disabled.
func (h *handler) serveDir(w http.ResponseWriter, r *http.Request, clean string, t target) {
	if !t.dir {
		loc := url.URL{Path: clean + "/", RawQuery: r.URL.RawQuery}
		w.Header().Set("Location", loc.String())
		w.WriteHeader(http.StatusMovedPermanently)
		return
	}
	for _, doc := range h.docs {
		segs := append(t.segs[:len(t.segs):len(t.segs)], doc)
		f, err := resolve(t.root.physical, segs)
		if errors.Is(err, fs.ErrNotExist) || (err == nil && !f.info.Mode().IsRegular()) {
			continue
		}
		if err != nil {
			h.fail(w, r, err)
			return
		}
		if h.isCGI(doc) {
			script := strings.TrimSuffix(clean, "/") + "/" + doc
			h.serveCGI(w, r, script, script, t, f)
			return
		}
		h.serveFile(w, r, f)
		return
	}
	http.Error(w, "403 Forbidden: directory listing is disabled", http.StatusForbidden)
}

// serveFile serves a regular file with http.ServeContent (ranges,
// conditional requests, content type by extension or sniffing) to GET and
// HEAD; other methods get 405. The file is opened through os.Root, so a
// symbolic link swapped in since resolve cannot lead outside the root, and
// must be the very file resolve checked (else 404), so it cannot lead to a
// hidden one either.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, f resolved) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	rt, err := os.OpenRoot(f.realRoot)
	if err != nil {
		h.fail(w, r, fmt.Errorf("open root: %w", err))
		return
	}
	defer rt.Close()
	file, err := rt.Open(f.rel)
	if err != nil {
		h.fail(w, r, fmt.Errorf("open: %w", err))
		return
	}
	defer file.Close()
	info, err := file.Stat()
	if err != nil {
		h.fail(w, r, fmt.Errorf("stat open file: %w", err))
		return
	}
	if !info.Mode().IsRegular() || !os.SameFile(info, f.info) {
		// Not the file resolve checked: a link swapped in meanwhile.
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf(`"%x-%x"`, info.ModTime().UnixNano(), info.Size()))
	http.ServeContent(w, r, info.Name(), info.ModTime(), file)
}
