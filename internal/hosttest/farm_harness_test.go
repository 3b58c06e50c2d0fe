package hosttest

// The farm harness (issue 11): a store in etcd (internal/etcdtest, in
// this process) and several real `poolctl host` processes following it,
// host i named h<i+1> and listening on 127.0.0.<i+2> (--listen-address),
// each with its own state directory and control socket, all on one site
// port. Bindings use '*', which each host resolves to its own address.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/poolctl/poolctl/internal/etcdstore"
	"github.com/poolctl/poolctl/internal/farm"
	"github.com/poolctl/poolctl/store"
)

// farmLeaseTTL is the --lease-ttl of the harness's hosts: the default, 10s.
// A shorter one lapsed on a loaded machine (a live host's keep-alives
// came too late, and a second host took its name).
const farmLeaseTTL = "10s"

// farmEnv is a farm on this machine.
type farmEnv struct {
	t      *testing.T
	url    string // --config etcd://EP[,EP...]/PREFIX
	prefix string
	port   int // the site port of every host
	hosts  []*farmMember
	cli    *clientv3.Client // the test's own etcd client, for looking
}

// farmMember is one host of a farm: a hostEnv whose store is the farm's
// etcd URL.
type farmMember struct {
	*hostEnv
	name string
	ip   string
	farm *farmEnv
}

// newFarm makes a farm of n hosts (none started) on the store under a new
// prefix of the etcd at endpoints, whose default site listens on '*' at a
// free port. The first host's tool creates the store.
func newFarm(t *testing.T, endpoints []string, n int) *farmEnv {
	t.Helper()
	bin, tw := binaries(t)
	prefix := "farm" + strings.ToLower(strings.NewReplacer("/", "", "_", "").Replace(t.Name()))
	if len(prefix) > 40 {
		prefix = prefix[:40]
	}
	f := &farmEnv{t: t, url: "etcd://" + strings.Join(endpoints, ",") + "/" + prefix, prefix: prefix, port: freePort(t)}
	var eps []string
	for _, ep := range endpoints {
		eps = append(eps, "http://"+ep)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	f.cli = cli
	for i := range n {
		dir := t.TempDir()
		if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
			t.Fatal(err)
		}
		sockDir, err := os.MkdirTemp("", "pcf")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(sockDir) })
		e := &hostEnv{t: t, dir: dir, store: f.url, socket: filepath.Join(sockDir, "host.sock"), state: filepath.Join(dir, "state"),
			bin: bin, testworker: tw, port: f.port, hostLog: &bytes.Buffer{}, logMu: &sync.Mutex{}}
		t.Cleanup(e.stopHost)
		e.raceCheck() // with GOFLAGS=-race, a race in a host fails the test
		f.hosts = append(f.hosts, &farmMember{hostEnv: e, name: fmt.Sprintf("h%d", i+1), ip: fmt.Sprintf("127.0.0.%d", i+2), farm: f})
	}
	f.hosts[0].run("set", "site", "Default Web Site", fmt.Sprintf("/bindings:http/*:%d:", f.port))
	return f
}

// keyOf is the etcd key of name under the farm's prefix.
func (f *farmEnv) keyOf(name string) string { return "/" + f.prefix + "/" + name }

// start starts the host with the farm flags (and extra ones) and waits
// until it answers and applied the store once.
func (m *farmMember) start(flags ...string) {
	m.t.Helper()
	m.launchHost(append([]string{"--host-name", m.name, "--listen-address", m.ip, "--lease-ttl", farmLeaseTTL}, flags...)...)
}

// addr is the host's site address.
func (m *farmMember) addr() string { return fmt.Sprintf("%s:%d", m.ip, m.port) }

// url is the address of path on the host's default site.
func (m *farmMember) url(path string) string { return "http://" + m.addr() + path }

// get fetches path from this host.
func (m *farmMember) get(path string) (int, string) {
	m.t.Helper()
	resp, err := client.Get(m.url(path))
	if err != nil {
		m.t.Fatalf("GET %s on %s: %v", path, m.name, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

// records reads every host record and which hosts are alive.
func (f *farmEnv) records() (map[string]farm.HostRecord, map[string]bool) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	recs, alive, _, err := farm.ReadHosts(ctx, f.cli, f.keyOf)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]farm.HostRecord{}
	for _, r := range recs {
		out[r.Name] = r
	}
	return out, alive
}

// storeVersion is the version of the store in etcd now (store.VersionOf
// of its bytes).
func (f *farmEnv) storeVersion() string {
	f.t.Helper()
	loc, err := etcdstore.ParseLocation(f.url)
	if err != nil {
		f.t.Fatal(err)
	}
	b := etcdstore.New(loc, 30*time.Second, func(string) string { return "" })
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data, _, err := b.ReadRevision(ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return store.VersionOf(data)
}

// waitApplied waits until every host in hosts (all when none) published
// StoreVersion == version.
func (f *farmEnv) waitApplied(version string, hosts ...*farmMember) {
	f.t.Helper()
	if len(hosts) == 0 {
		hosts = f.hosts
	}
	waitFor(f.t, 30*time.Second, "every host applied store version "+version, func() error {
		recs, _ := f.records()
		for _, m := range hosts {
			r, ok := recs[m.name]
			if !ok {
				return fmt.Errorf("host %s has no record", m.name)
			}
			if r.StoreVersion != version {
				return fmt.Errorf("host %s applied %q (%+v)", m.name, r.StoreVersion, r)
			}
		}
		return nil
	})
}

// alive reports whether farm/alive/NAME exists.
func (f *farmEnv) alive(name string) bool {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := f.cli.Get(ctx, farm.AliveKey(f.keyOf, name))
	if err != nil {
		f.t.Fatal(err)
	}
	return len(resp.Kvs) > 0
}

// rawRecord reads one host's record as stored.
func (f *farmEnv) rawRecord(name string) (farm.HostRecord, bool) {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := f.cli.Get(ctx, farm.HostKey(f.keyOf, name))
	if err != nil {
		f.t.Fatal(err)
	}
	if len(resp.Kvs) == 0 {
		return farm.HostRecord{}, false
	}
	var r farm.HostRecord
	if err := json.Unmarshal(resp.Kvs[0].Value, &r); err != nil {
		f.t.Fatal(err)
	}
	return r, true
}

// runHost runs `poolctl host` with the farm flags (name and address of m
// unless flags override them) to its end, for a host that must refuse to
// start, and returns its exit code and output.
func (m *farmMember) runHost(flags ...string) (int, string) {
	m.t.Helper()
	args := append([]string{"--config", m.store, "--socket", m.socket, "host", "--state-dir", m.state,
		"--host-name", m.name, "--listen-address", m.ip, "--lease-ttl", farmLeaseTTL}, flags...)
	// A host that starts after all is killed by the guard, and fails the
	// test by its exit status.
	ctx, cancel := context.WithTimeout(context.Background(), guard(60*time.Second))
	defer cancel()
	cmd := exec.CommandContext(ctx, m.bin, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		m.t.Fatalf("poolctl host: %v", err)
	}
	return 0, string(out)
}

// waitLog waits until the host's log has a line containing s.
func (m *farmMember) waitLog(s string) {
	m.t.Helper()
	waitFor(m.t, 20*time.Second, fmt.Sprintf("host %s logs %q", m.name, s), func() error {
		if !strings.Contains(m.log(), s) {
			return errors.New("not yet")
		}
		return nil
	})
}
