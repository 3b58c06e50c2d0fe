package worker_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/worker"
)

// fixedTime is the modification time of every fixture file.
var fixedTime = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// logBuf collects log output safely across goroutines.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuf) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// write creates dir/rel with content and mode, parents included.
func write(t *testing.T, dir, rel, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, fixedTime, fixedTime); err != nil {
		t.Fatal(err)
	}
	return p
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// script is a /bin/sh CGI script.
func script(body string) string { return "#!/bin/sh\n" + body + "\n" }

// fixture is a temporary tree served by a Spec:
//
//	www/     the root application "/" (vdir /img -> images/)
//	blog/    the application "/blog"
//	secret.txt, outside/ — outside every physical path
type fixture struct {
	dir  string
	www  string
	spec worker.Spec
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{dir: dir, www: filepath.Join(dir, "www")}
	files := map[string]string{
		"www/index.html":                      "home",
		"www/page.html":                       "<html><body>page</body></html>",
		"www/style.css":                       "body{}",
		"www/data.txt":                        "0123456789",
		"www/sub/default.htm":                 "sub default",
		"www/empty/readme.txt":                "no default document here",
		"www/img/logo.png":                    "WRONG: the vdir wins",
		"www/blogger/index.html":              "blogger",
		"www/dir.cgi/index.html":              "a directory named like a script",
		"www/.secret":                         "hidden",
		"www/.git/config":                     "hidden too",
		"www/sub/.hidden.html":                "hidden below",
		"www/.well-known/acme-challenge/tok1": "acme",
		"images/logo.png":                     "PNGDATA",
		"blog/index.html":                     "blog home",
		"blog/post.html":                      "post",
		"secret.txt":                          "SECRET",
		"outside/x.txt":                       "outside",
	}
	for rel, content := range files {
		write(t, dir, rel, content, 0o644)
	}
	symlink(t, "../secret.txt", filepath.Join(f.www, "link-out"))
	symlink(t, "../outside", filepath.Join(f.www, "dirlink-out"))
	symlink(t, filepath.Join(f.www, "page.html"), filepath.Join(f.www, "link-abs-in"))
	symlink(t, "sub", filepath.Join(f.www, "sublink"))
	f.spec = worker.Spec{
		Applications: []worker.App{
			{Site: "Default Web Site", Path: "/", PhysicalPath: f.www, VirtualDirectories: []worker.VirtualDirectory{
				{Path: "/img", PhysicalPath: filepath.Join(dir, "images")},
			}},
			{Site: "Default Web Site", Path: "/blog", PhysicalPath: filepath.Join(dir, "blog")},
			{Site: "Default Web Site", Path: "/gone", PhysicalPath: filepath.Join(dir, "does-not-exist")},
		},
		DefaultDocuments: []string{"index.html", "index.htm", "default.htm", "default.html", "index.cgi"},
		CGIExtensions:    []string{".cgi"},
	}
	return f
}

// handler builds the fixture's handler, logging into logs (may be nil).
func (f *fixture) handler(t *testing.T, logs *logBuf) http.Handler {
	t.Helper()
	var l *slog.Logger
	if logs != nil {
		l = logs.logger()
	}
	h, err := worker.Handler(f.spec, l)
	if err != nil {
		t.Fatalf("Handler: %v", err)
	}
	return h
}

// do runs one request through h.
func do(t *testing.T, h http.Handler, method, target string, body io.Reader, hdr map[string]string) *http.Response {
	t.Helper()
	r := httptest.NewRequest(method, target, body)
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mkfifo makes a named pipe in dir and opens it read-write, so neither
// side's open blocks and reads can time out.
func mkfifo(t *testing.T, dir, name string) (string, *os.File) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return p, f
}

// waitByte reads one byte from f, failing the test after limit.
func waitByte(t *testing.T, f *os.File, limit time.Duration, what string) {
	t.Helper()
	if err := f.SetReadDeadline(time.Now().Add(limit)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Read(make([]byte, 1)); err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

func contains(t *testing.T, got, want, what string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s = %q, want it to contain %q", what, got, want)
	}
}
