package etcdtest

import (
	"errors"
	"net/url"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/nettest"
	"go.etcd.io/etcd/client/pkg/v3/transport"
	"go.etcd.io/etcd/server/v3/embed"
)

// readyTimeout is a failure guard for a member to join its cluster.
const readyTimeout = 60 * time.Second

// FreePort returns a loopback port that nothing listens on (see
// nettest.FreePort).
func FreePort(t testing.TB) int { t.Helper(); return nettest.FreePort(t) }

// startAttempts bounds how often a member is started on fresh ports when
// a port it was given was taken before it could listen.
const startAttempts = 5

// Member is one etcd member run in the test process.
type Member struct {
	t        testing.TB
	Name     string
	dir      string
	Endpoint string // 127.0.0.1:PORT for clients
	peerURL  url.URL
	cluster  string // the initial cluster, "name=peerURL,..."
	tls      *transport.TLSInfo
	e        *embed.Etcd
}

// Server is a one-member etcd.
type Server = Member

// Start starts a one-member etcd on 127.0.0.1 with its data under
// t.TempDir; it is stopped at cleanup.
func Start(t testing.TB) *Server { t.Helper(); return StartTLS(t, nil) }

// StartTLS is Start serving clients over TLS when info is set.
func StartTLS(t testing.TB, info *transport.TLSInfo) *Server {
	t.Helper()
	var m *Member
	for attempt := 1; ; attempt++ {
		m = newMember(t, "test", info)
		m.cluster = m.Name + "=" + m.peerURL.String()
		err := m.launch()
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == startAttempts {
			t.Fatalf("start etcd member %s: %v", m.Name, err)
		}
	}
	m.wait()
	t.Cleanup(m.Stop)
	return m
}

func newMember(t testing.TB, name string, info *transport.TLSInfo) *Member {
	return &Member{t: t, Name: name, dir: t.TempDir(), Endpoint: "127.0.0.1:" + strconv.Itoa(FreePort(t)),
		peerURL: url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(FreePort(t))}, tls: info}
}

// launch starts the member without waiting for it to be ready.
func (m *Member) launch() error {
	cfg := embed.NewConfig()
	cfg.Dir = m.dir
	cfg.Name = m.Name
	cu := url.URL{Scheme: "http", Host: m.Endpoint}
	if m.tls != nil {
		cu.Scheme = "https"
		cfg.ClientTLSInfo = *m.tls
	}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{cu}, []url.URL{cu}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{m.peerURL}, []url.URL{m.peerURL}
	cfg.InitialCluster = m.cluster
	cfg.InitialClusterToken = "poolctl-test"
	cfg.LogLevel = "error"
	cfg.LogOutputs = []string{"/dev/null"}
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	m.e = e
	return nil
}

// wait waits until the member serves (its cluster has a leader).
func (m *Member) wait() {
	m.t.Helper()
	select {
	case <-m.e.Server.ReadyNotify():
	case <-time.After(readyTimeout):
		m.e.Close()
		m.e = nil
		m.t.Fatalf("etcd member %s did not become ready", m.Name)
	}
}

// Restart starts a stopped member again, on the same ports and data.
func (m *Member) Restart() {
	m.t.Helper()
	if m.e != nil {
		return
	}
	if err := m.launch(); err != nil {
		m.t.Fatalf("restart etcd member %s: %v", m.Name, err)
	}
	m.wait()
}

// Stop stops the member (idempotent); Restart starts it again.
func (m *Member) Stop() {
	if m.e != nil {
		m.e.Close()
		m.e = nil
	}
}

// Running reports whether the member runs.
func (m *Member) Running() bool { return m.e != nil }

// IsLeader reports whether the member runs and leads its cluster.
func (m *Member) IsLeader() bool {
	return m.e != nil && m.e.Server.Leader() == m.e.Server.MemberID()
}

// URL is the --config value of a store under prefix in this member.
func (m *Member) URL(prefix string) string { return "etcd://" + m.Endpoint + "/" + prefix }
