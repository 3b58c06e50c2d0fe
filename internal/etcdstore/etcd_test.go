package etcdstore

import (
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"

	"github.com/poolctl/poolctl/store"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestEtcd is an etcd server run in the test process.
type TestEtcd struct {
	t        *testing.T
	dir      string
	Endpoint string // 127.0.0.1:PORT
	peerPort int
	e        *embed.Etcd
	tls      *transport.TLSInfo // clients must use TLS when set
}

// StartEtcd starts a one-member etcd on 127.0.0.1 with a data directory
// under t.TempDir; it is stopped at cleanup.
func StartEtcd(t *testing.T) *TestEtcd {
	t.Helper()
	return startEtcdTLS(t, nil)
}

// startEtcdTLS is StartEtcd serving clients over TLS when info is set.
func startEtcdTLS(t *testing.T, info *transport.TLSInfo) *TestEtcd {
	t.Helper()
	te := &TestEtcd{t: t, dir: t.TempDir(), Endpoint: "127.0.0.1:" + strconv.Itoa(freePort(t)), peerPort: freePort(t), tls: info}
	te.Start()
	t.Cleanup(te.Stop)
	return te
}

func (te *TestEtcd) Start() {
	t := te.t
	t.Helper()
	cfg := embed.NewConfig()
	cfg.Dir = te.dir
	cfg.Name = "test"
	cu := url.URL{Scheme: "http", Host: te.Endpoint}
	if te.tls != nil {
		cu.Scheme = "https"
		cfg.ClientTLSInfo = *te.tls
	}
	pu := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(te.peerPort)}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{pu}, []url.URL{pu}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"/dev/null"}
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		t.Fatalf("start etcd: %v", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(60 * time.Second):
		e.Close()
		t.Fatal("etcd did not become ready")
	}
	te.e = e
}

func (te *TestEtcd) Stop() {
	if te.e != nil {
		te.e.Close()
		te.e = nil
	}
}

// url is the --config value of a store under prefix.
func (te *TestEtcd) URL(prefix string) string { return "etcd://" + te.Endpoint + "/" + prefix }

// open returns a store in te under prefix, with its own client.
func (te *TestEtcd) open(t *testing.T, prefix string) (*store.Store, *Backend) {
	t.Helper()
	loc, err := ParseLocation(te.URL(prefix))
	if err != nil {
		t.Fatal(err)
	}
	b := New(loc, 30*time.Second, func(string) string { return "" })
	t.Cleanup(func() { b.Close() })
	return store.OpenBackend(b), b
}
