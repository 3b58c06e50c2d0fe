package etcdstore

import (
	"testing"
	"time"

	"go.etcd.io/etcd/client/pkg/v3/transport"

	"github.com/poolctl/poolctl/internal/etcdtest"
	"github.com/poolctl/poolctl/store"
)

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int { t.Helper(); return etcdtest.FreePort(t) }

// TestEtcd is an etcd server run in the test process (internal/etcdtest).
type TestEtcd struct {
	*etcdtest.Server
}

// StartEtcd starts a one-member etcd on 127.0.0.1 with a data directory
// under t.TempDir; it is stopped at cleanup.
func StartEtcd(t *testing.T) *TestEtcd {
	t.Helper()
	return &TestEtcd{etcdtest.Start(t)}
}

// startEtcdTLS is StartEtcd serving clients over TLS when info is set.
func startEtcdTLS(t *testing.T, info *transport.TLSInfo) *TestEtcd {
	t.Helper()
	return &TestEtcd{etcdtest.StartTLS(t, info)}
}

// Start starts the stopped server again, on the same port and data.
func (te *TestEtcd) Start() { te.Restart() }

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
