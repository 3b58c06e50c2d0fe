package hosttest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// tlsSelfSigned writes a self-signed ECDSA certificate for the DNS names
// and 127.0.0.1 into dir and returns the certificate and file paths.
func tlsSelfSigned(t *testing.T, dir, name string, dnsNames ...string) (cert *x509.Certificate, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: dnsNames[0]},
		DNSNames:              dnsNames,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err = x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, certFile, keyFile
}

// tlsClient trusts only roots, offers HTTP/2, and dials every address at
// 127.0.0.1:port so the URL's host name is the SNI name and Host header.
func tlsClient(port int, roots ...*x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range roots {
		pool.AddCert(c)
	}
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		},
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// tlsGetWait GETs url with c, trying again until the listener answers
// (within a deadline), and returns the response with its whole body.
func tlsGetWait(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	var resp *http.Response
	waitFor(t, 10*time.Second, "https listener", func() error {
		r, err := c.Get(url)
		if err != nil {
			return err
		}
		resp = r
		return nil
	})
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// tlsHeaders parses testworker's /headers reply into name → values.
func tlsHeaders(body string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if ok {
			out[k] = append(out[k], v)
		}
	}
	return out
}

func tlsOne(h map[string][]string, k string) string {
	if len(h[k]) != 1 {
		return fmt.Sprintf("%q", h[k])
	}
	return h[k][0]
}

// TestHTTPSBinding: an https binding serves with its certificate (per SNI
// name), offers HTTP/2, and the worker sees X-Forwarded-Proto: https, the
// client in X-Forwarded-For and the client's Host header unchanged; on the
// http binding the worker sees proto http and the Host unchanged too.
func TestHTTPSBinding(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	cert, certFile, keyFile := tlsSelfSigned(t, e.dir, "localhost", "localhost")
	other, otherCert, otherKey := tlsSelfSigned(t, e.dir, "other", "other.test")
	port := freePort(t)
	e.run("set", "site", "Default Web Site", fmt.Sprintf(
		"/+bindings.[protocol='https',bindingInformation='127.0.0.1:%d:',certificateFile='%s',keyFile='%s']", port, certFile, keyFile))
	e.run("set", "site", "Default Web Site", fmt.Sprintf(
		"/+bindings.[protocol='https',bindingInformation='127.0.0.1:%d:other.test',certificateFile='%s',keyFile='%s']", port, otherCert, otherKey))
	e.startHost()

	c := tlsClient(port, cert)
	defer c.CloseIdleConnections()
	url := fmt.Sprintf("https://localhost:%d/headers", port)
	resp, body := tlsGetWait(t, c, url)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d %q\n%s", url, resp.StatusCode, body, e.log())
	}
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("protocol %s, want HTTP/2.0 (h2 offered over TLS)", resp.Proto)
	}
	if got := resp.TLS.PeerCertificates[0]; !got.Equal(cert) {
		t.Errorf("certificate for localhost is %s, want the localhost one", got.Subject)
	}
	h := tlsHeaders(string(body))
	want := map[string]string{
		"Host":              fmt.Sprintf("localhost:%d", port),
		"X-Forwarded-Host":  fmt.Sprintf("localhost:%d", port),
		"X-Forwarded-Proto": "https",
		"X-Forwarded-For":   "127.0.0.1",
	}
	for k, v := range want {
		if got := tlsOne(h, k); got != v {
			t.Errorf("worker saw %s %s, want %q\n%s", k, got, v, body)
		}
	}

	// The other host name gets its own certificate (SNI), and a client
	// that trusts only the localhost certificate refuses it.
	oc := tlsClient(port, other)
	defer oc.CloseIdleConnections()
	oresp, err := oc.Get(fmt.Sprintf("https://other.test:%d/", port))
	if err != nil {
		t.Fatalf("GET https://other.test: %v", err)
	}
	obody, _ := io.ReadAll(oresp.Body)
	oresp.Body.Close()
	if oresp.StatusCode != 200 || !strings.Contains(string(obody), "pool=P\n") || !oresp.TLS.PeerCertificates[0].Equal(other) {
		t.Errorf("other.test: %d %q cert %s, want 200 from P with the other.test certificate", oresp.StatusCode, obody, oresp.TLS.PeerCertificates[0].Subject)
	}
	if r, err := c.Get(fmt.Sprintf("https://other.test:%d/", port)); err == nil {
		r.Body.Close()
		t.Errorf("a client trusting only the localhost certificate accepted other.test's")
	}

	// Plain http: the Host header reaches the worker as the client sent it.
	req := mustRequest(t, "GET", e.url("/headers"), "Shop.Example:8080")
	req.Header.Set("X-Forwarded-Proto", "https") // a client's claim; replaced
	code, hbody := do(t, req)
	if code != 200 {
		t.Fatalf("GET /headers over http = %d %q", code, hbody)
	}
	h = tlsHeaders(hbody)
	want = map[string]string{
		"Host":              "Shop.Example:8080",
		"X-Forwarded-Host":  "Shop.Example:8080",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-For":   "127.0.0.1",
	}
	for k, v := range want {
		if got := tlsOne(h, k); got != v {
			t.Errorf("over http the worker saw %s %s, want %q\n%s", k, got, v, hbody)
		}
	}
}
