package front

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
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/nettest"
	"github.com/poolctl/poolctl/store"
)

// selfSigned writes a certificate for name and its key into dir.
func selfSigned(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		DNSNames: []string{name}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestApplyCertificateChangeKeepsListener: a change of an https
// listener's certificates (a binding with another host name added on the
// same port) swaps the certificates on the listener that serves, rather
// than closing it and listening again on a port the closing listener may
// still hold; connections open on it are not cut.
func TestApplyCertificateChangeKeepsListener(t *testing.T) {
	dir := t.TempDir()
	c1, k1 := selfSigned(t, dir, "one.test")
	c2, k2 := selfSigned(t, dir, "two.test")
	port := freePort(t)
	site := func(bs ...store.Binding) *store.Config { return siteServing(dir, bs...) }
	b1 := store.Binding{Protocol: "https", BindingInformation: fmt.Sprintf("127.0.0.1:%d:one.test", port), CertificateFile: c1, KeyFile: k1}
	b2 := store.Binding{Protocol: "https", BindingInformation: fmt.Sprintf("127.0.0.1:%d:two.test", port), CertificateFile: c2, KeyFile: k2}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := New(noPools{}, discardLogger)
	f.LogDir = t.TempDir()
	defer f.Shutdown(ctx)
	if err := f.Apply(ctx, site(b1)); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	handshake := func(name string) (*tls.Conn, error) {
		d := &net.Dialer{Timeout: 10 * time.Second}
		return tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, InsecureSkipVerify: true}) // #nosec G402: the test checks which certificate it gets
	}
	open, err := handshake("one.test")
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	for range 20 { // each change of certificates, a new table
		if err := f.Apply(ctx, site(b1, b2)); err != nil {
			t.Fatalf("adding a binding with its certificate: %v", err)
		}
		if err := f.Apply(ctx, site(b1)); err != nil {
			t.Fatalf("removing it: %v", err)
		}
	}
	if err := f.Apply(ctx, site(b1, b2)); err != nil {
		t.Fatal(err)
	}
	c, err := handshake("two.test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.ConnectionState().PeerCertificates[0].Subject.CommonName; got != "two.test" {
		t.Errorf("two.test got the certificate of %q", got)
	}
	// The connection opened before the changes still works.
	if err := open.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(open, "GET / HTTP/1.1\r\nHost: one.test\r\n\r\n"); err != nil {
		t.Fatalf("the connection opened before the certificate change: %v", err)
	}
	buf := make([]byte, 12)
	if _, err := open.Read(buf); err != nil {
		t.Errorf("the connection opened before the certificate change got no answer: %v", err)
	}
}

// TestApplyBindingReaddedAtOnce: a binding removed and added back by the
// next apply listens again: the removed listener stops accepting before
// Apply returns (its requests in flight still finish in the background),
// so it does not hold the port against the new one.
func TestApplyBindingReaddedAtOnce(t *testing.T) {
	dir := t.TempDir()
	port := freePort(t)
	site := func(bs ...store.Binding) *store.Config { return siteServing(dir, bs...) }
	other := store.Binding{Protocol: "http", BindingInformation: "127.0.0.1:0:"}
	b := store.Binding{Protocol: "http", BindingInformation: fmt.Sprintf("127.0.0.1:%d:", port)}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f := New(noPools{}, discardLogger)
	f.LogDir = t.TempDir()
	defer f.Shutdown(ctx)
	for i := range 20 {
		if err := f.Apply(ctx, site(b)); err != nil {
			t.Fatalf("round %d: binding added back: %v", i, err)
		}
		if err := f.Apply(ctx, site(other)); err != nil {
			t.Fatalf("round %d: binding removed: %v", i, err)
		}
	}
}

// freePort returns a loopback port nothing listens on (see nettest.FreePort).
func freePort(t *testing.T) int { t.Helper(); return nettest.FreePort(t) }

// siteServing is a store with pool P and site S bound to bs, serving dir.
func siteServing(dir string, bs ...store.Binding) *store.Config {
	return &store.Config{ApplicationPools: []store.AppPool{{Name: "P"}},
		Sites: []store.Site{{Name: "S", ID: 1, Bindings: bs,
			Applications: []store.Application{{Path: "/", ApplicationPool: "P", PhysicalPath: dir}}}}}
}
