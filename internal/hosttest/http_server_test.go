package hosttest

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
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

// TestHTTPSHTTP11OnLeanLoop: over TLS, a client that does not offer h2 is
// served HTTP/1.1 by the lean loop (an obs-folded request gets its 400)
// and the worker sees X-Forwarded-Proto: https (the request's TLS state
// reached the forwarder); h2 clients stay on net/http (TestHTTPSBinding).
func TestHTTPSHTTP11OnLeanLoop(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	cert, certFile, keyFile := tlsSelfSigned(t, e.dir, "localhost", "localhost")
	port := freePort(t)
	e.run("set", "site", "Default Web Site", fmt.Sprintf(
		"/+bindings.[protocol='https',bindingInformation='127.0.0.1:%d:',certificateFile='%s',keyFile='%s']", port, certFile, keyFile))
	e.startHost()

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	cfg := &tls.Config{RootCAs: roots, ServerName: "localhost", MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
	tr := &http.Transport{TLSClientConfig: cfg, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		}}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	url := fmt.Sprintf("https://localhost:%d/headers", port)
	resp, body := tlsGetWait(t, c, url)
	if resp.StatusCode != http.StatusOK || resp.Proto != "HTTP/1.1" {
		t.Fatalf("GET %s = %d %s %q", url, resp.StatusCode, resp.Proto, body)
	}
	if got := tlsOne(tlsHeaders(string(body)), "X-Forwarded-Proto"); got != "https" {
		t.Errorf("worker saw X-Forwarded-Proto %s, want https", got)
	}

	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(conn, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to an obs-folded request over TLS: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("obs-folded request over TLS answered %d, want 400 from the lean loop", res.StatusCode)
	}
}
