package worker_test

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/worker"
)

// cgiFixture adds CGI scripts to a fixture.
func cgiFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	write(t, f.www, "cgi-bin/hello.cgi", script(`printf 'Content-Type: text/plain\n\n'
body=$(cat)
printf 'hello %s %s %s' "$QUERY_STRING" "$PATH_INFO" "$body"`), 0o755)
	write(t, f.www, "cgi-bin/status.cgi", script(`printf 'Status: 201 Created\nContent-Type: text/plain\nX-Made: yes\n\ncreated'`), 0o755)
	write(t, f.www, "cgi-bin/noexec.cgi", script(`printf 'Content-Type: text/plain\n\nran'`), 0o644)
	write(t, f.www, "cgi-bin/env.cgi", script(`printf 'Content-Type: text/plain\n\n'
for v in SCRIPT_NAME PATH_INFO REQUEST_METHOD CONTENT_LENGTH REQUEST_URI SERVER_SOFTWARE \
         POOLCTL_APPPOOL APP_POOL_ID POOL_SETTING DOCUMENT_ROOT REMOTE_ADDR HTTPS PORT POOLCTL_WORKER_SPEC; do
  eval "printf '%s=%s\n' $v \"\${$v}\""
done
printf 'PWD=%s\n' "$(pwd)"`), 0o755)
	write(t, f.www, "cgidir/index.cgi", script(`printf 'Content-Type: text/plain\n\nindex script %s|%s' "$SCRIPT_NAME" "$PATH_INFO"`), 0o755)
	write(t, f.dir, "outside/evil.cgi", script(`printf 'Content-Type: text/plain\n\noutside ran'`), 0o755)
	symlink(t, "../../outside/evil.cgi", filepath.Join(f.www, "cgi-bin", "evil.cgi"))
	write(t, f.dir, "blog/run.cgi", script(`printf 'Content-Type: text/plain\n\nblog %s|%s' "$SCRIPT_NAME" "$PATH_INFO"`), 0o755)
	return f
}

func TestCGI(t *testing.T) {
	f := cgiFixture(t)
	logs := &logBuf{}
	h := f.handler(t, logs)
	tests := []struct {
		name       string
		method     string
		target     string
		body       string
		wantStatus int
		wantBody   string
		wantHdr    map[string]string
	}{
		{"query and PATH_INFO", "GET", "/cgi-bin/hello.cgi/extra/path?x=1&y=2", "", 200, "hello x=1&y=2 /extra/path ",
			map[string]string{"Content-Type": "text/plain"}},
		{"no PATH_INFO", "GET", "/cgi-bin/hello.cgi?q", "", 200, "hello q  ", nil},
		{"POST body on stdin", "POST", "/cgi-bin/hello.cgi", "payload=1", 200, "hello   payload=1", nil},
		{"Status header honoured", "GET", "/cgi-bin/status.cgi", "", 201, "created", map[string]string{"X-Made": "yes"}},
		{"not executable", "GET", "/cgi-bin/noexec.cgi", "", 500, "", nil},
		{"symlink to a script outside", "GET", "/cgi-bin/evil.cgi", "", 404, "", nil},
		{"missing script", "GET", "/cgi-bin/nope.cgi/x", "", 404, "", nil},
		{"script as default document", "GET", "/cgidir/", "", 200, "index script /cgidir/index.cgi|", nil},
		{"script in a non-root app", "GET", "/blog/run.cgi/a/b", "", 200, "blog /blog/run.cgi|/a/b", nil},
		{"app matched ignoring case keeps the request's spelling", "GET", "/Blog/run.cgi/a", "", 200, "blog /Blog/run.cgi|/a", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp := do(t, h, tc.method, tc.target, strings.NewReader(tc.body), nil)
			body := readBody(t, resp)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d (body %q)", resp.StatusCode, tc.wantStatus, body)
			}
			if tc.wantBody != "" && body != tc.wantBody {
				t.Errorf("body = %q, want %q", body, tc.wantBody)
			}
			if strings.Contains(body, "ran") {
				t.Errorf("a script that must not run ran: %q", body)
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
	log := logs.String()
	contains(t, log, "CGI script is not executable", "log")
	contains(t, log, "noexec.cgi", "log")
	contains(t, log, "refused a symbolic link leading outside", "log")
}

func TestCGIEnvironment(t *testing.T) {
	t.Setenv(worker.AppPoolEnv, "Marketing")
	t.Setenv("POOL_SETTING", "from the pool")
	t.Setenv("PORT", "8123")
	t.Setenv(worker.SpecEnv, `{"applications":[]}`)
	t.Setenv("PATH_INFO", "must not leak")
	f := cgiFixture(t)
	h := f.handler(t, nil)

	r := httptest.NewRequest("POST", "/cgi-bin/env.cgi/more?a=b", strings.NewReader("12345"))
	r.RemoteAddr = "127.0.0.1:40000"
	r.Header.Set("X-Forwarded-For", "198.51.100.9, 203.0.113.7")
	r.Header.Set("X-Forwarded-Proto", "https")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	body := w.Body.String()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, body)
	}
	for _, want := range []string{
		"SCRIPT_NAME=/cgi-bin/env.cgi\n",
		"PATH_INFO=/more\n",
		"REQUEST_METHOD=POST\n",
		"CONTENT_LENGTH=5\n",
		"REQUEST_URI=/cgi-bin/env.cgi/more?a=b\n",
		"SERVER_SOFTWARE=poolctl-worker\n",
		"POOLCTL_APPPOOL=Marketing\n",
		"APP_POOL_ID=Marketing\n",
		"POOL_SETTING=from the pool\n",
		"DOCUMENT_ROOT=" + f.www + "\n",
		"REMOTE_ADDR=203.0.113.7\n",
		"HTTPS=on\n",
		"PORT=\n",
		"POOLCTL_WORKER_SPEC=\n",
		"PWD=" + filepath.Join(f.www, "cgi-bin") + "\n",
	} {
		contains(t, body, want, "CGI environment")
	}

	// Forwarded headers from a peer that is not the host are not trusted.
	r = httptest.NewRequest("GET", "/cgi-bin/env.cgi", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	r.Header.Set("X-Forwarded-For", "203.0.113.7")
	r.Header.Set("X-Forwarded-Proto", "https")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	contains(t, w.Body.String(), "REMOTE_ADDR=192.0.2.1\n", "untrusted CGI environment")
	contains(t, w.Body.String(), "HTTPS=\n", "untrusted CGI environment")
}

func TestCGIChunkedBody(t *testing.T) {
	h := cgiFixture(t).handler(t, nil)
	r := httptest.NewRequest("POST", "/cgi-bin/hello.cgi", strings.NewReader("chunked payload"))
	r.ContentLength = -1
	r.TransferEncoding = []string{"chunked"}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK || w.Body.String() != "hello   chunked payload" {
		t.Fatalf("status %d body %q, want 200 with the spooled body", w.Code, w.Body.String())
	}
}

func TestCGIBodyTooLarge(t *testing.T) {
	h := cgiFixture(t).handler(t, nil)
	r := httptest.NewRequest("POST", "/cgi-bin/hello.cgi", strings.NewReader("x"))
	r.ContentLength = worker.MaxCGIBody + 1
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", w.Code)
	}
}
