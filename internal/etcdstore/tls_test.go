package etcdstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"github.com/poolctl/poolctl/store"
)

// writeCert makes a key and a certificate signed by parent (self-signed
// when parent is nil) and writes them as PEM files in dir.
func writeCert(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return cert, key, certFile, keyFile
}

// TestEtcdTLS: with a CA and a client certificate from the environment,
// poolctl talks TLS to an etcd that requires client certificates; without
// the client certificate it cannot, and the store is unavailable or
// refused, never written.
func TestEtcdTLS(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca, caKey, caFile, _ := writeCert(t, dir, "ca", &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}, nil, nil)
	_, _, srvCert, srvKey := writeCert(t, dir, "server", &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "etcd"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, ca, caKey)
	_, _, cliCert, cliKey := writeCert(t, dir, "client", &x509.Certificate{
		SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "poolctl"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, caKey)
	te := startEtcdTLS(t, &transport.TLSInfo{CertFile: srvCert, KeyFile: srvKey, TrustedCAFile: caFile, ClientCertAuth: true})
	open := func(env map[string]string) *store.Store {
		loc, _ := ParseLocation(te.URL("tls"))
		b := New(loc, 10*time.Second, func(k string) string { return env[k] })
		t.Cleanup(func() { b.Close() })
		return store.OpenBackend(b)
	}
	ctx := context.Background()
	good := open(map[string]string{EnvCACert: caFile, EnvCert: cliCert, EnvKey: cliKey})
	if _, err := good.Load(ctx); err != nil {
		t.Fatalf("with CA and client certificate: %v", err)
	}
	short, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	_, err := open(map[string]string{EnvCACert: caFile}).Update(short, func(c *store.Config) error {
		c.ApplicationPools = append(c.ApplicationPools, store.AppPool{Name: "X"})
		return nil
	})
	if err == nil {
		t.Fatal("a client without a certificate wrote the store")
	}
	if !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, os.ErrPermission) {
		t.Logf("without a client certificate: %v", err)
	}
	c, err := good.Load(ctx)
	if err != nil || len(c.ApplicationPools) != 1 {
		t.Fatalf("after the refused write: %v, %d pools", err, len(c.ApplicationPools))
	}
}
