package hosttest

import (
	"bufio"
	"io"
	"net/http"
	"testing"
)

// TestHTTPServerFlag checks that --http-server picks the server loop of
// plain-HTTP bindings: a request with an obs-folded field, which net/http's
// server unfolds and serves and the lean loop refuses with 400 (RFC 9112
// allows either), is answered 400 by a default host and 200 by a host
// started with --http-server net/http.
func TestHTTPServerFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flags []string
		want  int
	}{
		{nil, http.StatusBadRequest},
		{[]string{"--http-server", "net/http"}, http.StatusOK},
	} {
		e := newHostEnv(t)
		e.addTestPool("P", "/")
		e.launchHost(tc.flags...)
		if code, _, _ := e.get("/"); code != http.StatusOK {
			t.Fatalf("host %v: GET / answered %d", tc.flags, code)
		}
		c := e.rawDial()
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("host %v: no answer to an obs-folded request: %v", tc.flags, err)
		}
		res.Body.Close()
		c.Close()
		if res.StatusCode != tc.want {
			t.Errorf("host %v: obs-folded request answered %d, want %d", tc.flags, res.StatusCode, tc.want)
		}
		e.stopHost()
	}
}
