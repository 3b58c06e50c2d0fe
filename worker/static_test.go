package worker_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/worker"
)

func TestStatic(t *testing.T) {
	f := newFixture(t)
	logs := &logBuf{}
	h := f.handler(t, logs)
	lastMod := fixedTime.Format(http.TimeFormat)
	tests := []struct {
		name       string
		method     string
		target     string
		hdr        map[string]string
		wantStatus int
		wantBody   string // exact, unless "*" (not checked)
		wantHdr    map[string]string
	}{
		{"exact file", "GET", "/page.html", nil, 200, "<html><body>page</body></html>",
			map[string]string{"Content-Type": "text/html; charset=utf-8", "Last-Modified": lastMod, "Content-Length": "30"}},
		{"css type", "GET", "/style.css", nil, 200, "body{}", map[string]string{"Content-Type": "text/css; charset=utf-8"}},
		{"head", "HEAD", "/page.html", nil, 200, "", map[string]string{"Content-Length": "30", "Content-Type": "text/html; charset=utf-8"}},
		{"range", "GET", "/data.txt", map[string]string{"Range": "bytes=2-5"}, 206, "2345",
			map[string]string{"Content-Range": "bytes 2-5/10", "Accept-Ranges": "bytes"}},
		{"if-modified-since", "GET", "/page.html", map[string]string{"If-Modified-Since": lastMod}, 304, "", nil},
		{"modified since an older date", "GET", "/data.txt",
			map[string]string{"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"}, 200, "0123456789", nil},
		{"root default document", "GET", "/", nil, 200, "home", map[string]string{"Content-Type": "text/html; charset=utf-8"}},
		{"subdir default document", "GET", "/sub/", nil, 200, "sub default", nil},
		{"dir without slash", "GET", "/sub", nil, 301, "*", map[string]string{"Location": "/sub/"}},
		{"dir without slash keeps query", "GET", "/sub?a=1&b=2", nil, 301, "*", map[string]string{"Location": "/sub/?a=1&b=2"}},
		{"app root without slash", "GET", "/blog", nil, 301, "*", map[string]string{"Location": "/blog/"}},
		{"dir without default document", "GET", "/empty/", nil, 403, "*", nil},
		{"file in dir without default document", "GET", "/empty/readme.txt", nil, 200, "no default document here", nil},
		{"missing", "GET", "/missing.html", nil, 404, "*", nil},
		{"missing below a file", "GET", "/page.html/x", nil, 404, "*", nil},
		{"file with trailing slash", "GET", "/page.html/", nil, 404, "*", nil},
		{"dot segment cleaned", "GET", "/sub/./default.htm", nil, 200, "sub default", nil},
		{"double slash cleaned", "GET", "//page.html", nil, 200, "<html><body>page</body></html>", nil},

		{"traversal dotdot", "GET", "/../etc/passwd", nil, 400, "*", nil},
		{"traversal encoded dots", "GET", "/%2e%2e/secret.txt", nil, 400, "*", nil},
		{"traversal encoded dots trailing", "GET", "/%2e%2e/", nil, 400, "*", nil},
		{"traversal through vdir", "GET", "/img/../../secret.txt", nil, 400, "*", nil},
		{"encoded slash", "GET", "/img%2F..%2F..%2Fsecret.txt", nil, 400, "*", nil},
		{"encoded slash alone", "GET", "/sub%2fdefault.htm", nil, 400, "*", nil},
		{"encoded backslash", "GET", "/..%5csecret.txt", nil, 400, "*", nil},
		{"NUL", "GET", "/page.html%00.txt", nil, 400, "*", nil},
		{"backslash", "GET", "/sub\\default.htm", nil, 400, "*", nil},

		{"vdir beats the root app", "GET", "/img/logo.png", nil, 200, "PNGDATA", map[string]string{"Content-Type": "image/png"}},
		{"vdir matched ignoring case", "GET", "/IMG/logo.png", nil, 200, "PNGDATA", nil},
		{"longest app path wins", "GET", "/blog/post.html", nil, 200, "post", nil},
		{"app matched ignoring case", "GET", "/BLOG/post.html", nil, 200, "post", nil},
		{"app default document", "GET", "/blog/", nil, 200, "blog home", nil},
		{"app prefix only on segments", "GET", "/blogger/", nil, 200, "blogger", nil},
		{"app with a missing physical path", "GET", "/gone/x.html", nil, 404, "*", nil},

		{"symlink escaping the root", "GET", "/link-out", nil, 404, "*", nil},
		{"dir symlink escaping the root", "GET", "/dirlink-out/x.txt", nil, 404, "*", nil},
		{"absolute symlink inside the root", "GET", "/link-abs-in", nil, 200, "<html><body>page</body></html>", nil},
		{"dir symlink inside the root", "GET", "/sublink/", nil, 200, "sub default", nil},

		{"post to static file", "POST", "/page.html", nil, 405, "*", map[string]string{"Allow": "GET, HEAD"}},
		{"delete default document", "DELETE", "/", nil, 405, "*", map[string]string{"Allow": "GET, HEAD"}},

		{"hidden file", "GET", "/.secret", nil, 404, "*", nil},
		{"hidden dir", "GET", "/.git/config", nil, 404, "*", nil},
		{"hidden below", "GET", "/sub/.hidden.html", nil, 404, "*", nil},
		{"well-known is served", "GET", "/.well-known/acme-challenge/tok1", nil, 200, "acme", nil},
		{"directory named like a script", "GET", "/dir.cgi/", nil, 200, "a directory named like a script", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(t, h, tc.method, tc.target, nil, tc.hdr)
			body := readBody(t, resp)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("%s %s: status %d, want %d (body %q)", tc.method, tc.target, resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantBody != "*" && body != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
			if strings.Contains(body, "SECRET") || strings.Contains(body, "outside") {
				t.Errorf("served a file outside the root: %q", body)
			}
			for k, v := range tc.wantHdr {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if got := resp.Header.Get("Server"); got != worker.ServerHeader {
				t.Errorf("Server = %q, want %q", got, worker.ServerHeader)
			}
		})
	}
	contains(t, logs.String(), "refused a symbolic link leading outside", "log")
}

func TestETagConditional(t *testing.T) {
	h := newFixture(t).handler(t, nil)
	resp := do(t, h, "GET", "/page.html", nil, nil)
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	resp = do(t, h, "GET", "/page.html", nil, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
}

// TestSameAppPathInTwoSites: with the host's site header the worker serves
// the site's own application; without it, the first in spec.
func TestSameAppPathInTwoSites(t *testing.T) {
	f := newFixture(t)
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "post.html"), []byte("other post"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.spec.Applications = append(f.spec.Applications, worker.App{Site: "Other Site", Path: "/BLOG", PhysicalPath: other})
	h := f.handler(t, nil)
	if body := readBody(t, do(t, h, "GET", "/blog/post.html", nil, nil)); body != "post" {
		t.Errorf("no site header: body = %q, want the first application's post", body)
	}
	if body := readBody(t, do(t, h, "GET", "/blog/post.html", nil, map[string]string{worker.SiteHeader: "other site"})); body != "other post" {
		t.Errorf("site header Other Site: body = %q, want the other site's post", body)
	}
}

func TestVdirReplacingRoot(t *testing.T) {
	f := newFixture(t)
	f.spec.Applications = []worker.App{{Path: "/", VirtualDirectories: []worker.VirtualDirectory{{Path: "/", PhysicalPath: f.dir + "/blog"}}}}
	h := f.handler(t, nil)
	if body := readBody(t, do(t, h, "GET", "/post.html", nil, nil)); body != "post" {
		t.Errorf("body = %q, want post from the / virtual directory", body)
	}
}

func TestNoApplicationMatches(t *testing.T) {
	f := newFixture(t)
	f.spec.Applications = f.spec.Applications[1:2] // only /blog
	h := f.handler(t, nil)
	if resp := do(t, h, "GET", "/page.html", nil, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}

func TestHandlerRejectsInvalidSpec(t *testing.T) {
	for _, spec := range []worker.Spec{
		{Applications: []worker.App{{Path: "blog", PhysicalPath: "/srv"}}},
		{Applications: []worker.App{{Path: "/a/../b", PhysicalPath: "/srv"}}},
		{Applications: []worker.App{{Path: "/", PhysicalPath: "/srv", VirtualDirectories: []worker.VirtualDirectory{{Path: "x", PhysicalPath: "/x"}}}}},
		{DefaultDocuments: []string{"../index.html"}},
		{CGIExtensions: []string{"."}},
	} {
		if _, err := worker.Handler(spec, nil); err == nil {
			t.Errorf("Handler(%+v) succeeded, want an error", spec)
		}
	}
}

// TestBadPhysicalPath: a misconfigured application answers 500 and is
// logged; the rest of the pool is served.
func TestBadPhysicalPath(t *testing.T) {
	f := newFixture(t)
	f.spec.Applications = append(f.spec.Applications,
		worker.App{Site: "S", Path: "/rel", PhysicalPath: "relative/dir"},
		worker.App{Site: "S", Path: "/none"},
		worker.App{Site: "S", Path: "/withvdir", PhysicalPath: f.dir + "/blog",
			VirtualDirectories: []worker.VirtualDirectory{{Path: "/v", PhysicalPath: ""}}})
	logs := &logBuf{}
	h := f.handler(t, logs)
	for target, want := range map[string]int{
		"/rel/x.html": 500, "/none/": 500, "/withvdir/v/x": 500,
		"/withvdir/post.html": 200, "/page.html": 200, "/blog/post.html": 200,
	} {
		if resp := do(t, h, "GET", target, nil, nil); resp.StatusCode != want {
			t.Errorf("GET %s: status %d, want %d", target, resp.StatusCode, want)
		}
	}
	contains(t, logs.String(), "cannot serve a directory of an application", "log")
	contains(t, logs.String(), "not absolute", "log")
}
