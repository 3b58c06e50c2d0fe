package hosttest

// Farm tests (issue 11): real `poolctl host` processes following one
// store in etcd (embedded, internal/etcdtest), each on its own loopback
// address (farm_harness_test.go).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/etcdtest"
	"github.com/poolctl/poolctl/internal/farm"
)

// TestFarmConverges: a change made through one host machine's tool is
// applied by all three hosts: each publishes the new store version and
// serves the change; each publishes its address after --listen-address.
func TestFarmConverges(t *testing.T) {
	t.Parallel()
	etcd := etcdtest.Start(t)
	f := newFarm(t, []string{etcd.Endpoint}, 3)
	f.hosts[0].addTestPool("FarmA", "/")
	for _, m := range f.hosts {
		m.start()
	}
	f.waitApplied(f.storeVersion())
	recs, alive := f.records()
	for _, m := range f.hosts {
		r := recs[m.name]
		if !alive[m.name] || !r.Connected || r.Offline || r.Instance == "" || r.StoreRevision == 0 || r.Generation == 0 {
			t.Errorf("host %s: alive %v, record %+v", m.name, alive[m.name], r)
		}
		if want := m.addr(); !slices.Contains(r.Addresses, want) {
			t.Errorf("host %s: addresses %v, want %s", m.name, r.Addresses, want)
		}
		if code, body := m.get("/"); code != 200 || !strings.Contains(body, "pool=FarmA") {
			t.Errorf("host %s: GET / = %d %q", m.name, code, body)
		}
	}
	// The change, through the second host's machine.
	f.hosts[1].addTestPool("FarmB", "/b")
	f.hosts[1].run("set", "apppool", "FarmB", "/queueLength:1234")
	v := f.storeVersion()
	f.waitApplied(v)
	for _, m := range f.hosts {
		waitFor(t, 20e9, fmt.Sprintf("host %s serves /b/ from FarmB", m.name), func() error {
			code, body := m.get("/b/")
			if code != 200 || !strings.Contains(body, "pool=FarmB") {
				return fmt.Errorf("GET /b/ = %d %q", code, body)
			}
			return nil
		})
		pools, err := m.apiPools()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := pools["FarmB"]; !ok {
			t.Errorf("host %s: the control socket lists %v, no FarmB", m.name, pools)
		}
		// The same through etcd (farm/cmd/NAME): the host's control API.
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		st, err := hostapi.NewClientTransport(m.name, farm.NewTransport(f.cli, f.keyOf, m.name)).Status(ctx)
		cancel()
		if err != nil || st.Applied != v {
			t.Errorf("host %s: status through etcd = %+v, %v; want applied %s", m.name, st, err, v)
		}
	}
}

// TestFarmHostNameAndLease: a second live host with a name in use refuses
// to start (exit 2); a host killed with SIGKILL loses farm/alive/NAME
// within its lease TTL (the deadline is a failure guard) while its record
// stays; then the name is free again; a host restarted at once after a
// crash waits for its old lease and starts.
func TestFarmHostNameAndLease(t *testing.T) {
	t.Parallel()
	etcd := etcdtest.Start(t)
	f := newFarm(t, []string{etcd.Endpoint}, 2)
	h1, other := f.hosts[0], f.hosts[1]
	h1.start()
	f.waitApplied(f.storeVersion(), h1)
	code, out := other.runHost("--host-name", h1.name)
	if code != 2 || !strings.Contains(out, "host name h1 is taken by a live host") {
		t.Fatalf("second host named h1: exit %d\n%s", code, out)
	}
	if !f.alive(h1.name) {
		t.Fatal("h1 lost its liveness key to the refused host")
	}
	h1.killHost()
	waitFor(t, 10*time.Second, "farm/alive/h1 gone after SIGKILL", func() error {
		if f.alive(h1.name) {
			return errors.New("still alive")
		}
		return nil
	})
	if _, ok := f.rawRecord(h1.name); !ok {
		t.Error("the record of h1 went with its lease")
	}
	other.name = h1.name
	other.start()
	f.waitApplied(f.storeVersion(), other)
	// Restarted at once after a crash, a host finds its own previous
	// lease: it waits for it to expire, then starts.
	first, _ := f.rawRecord(other.name)
	other.killHost()
	other.start()
	if !strings.Contains(other.log(), "waiting for the lease of a previous instance to expire") {
		t.Errorf("the restarted host did not wait for its old lease:\n%s", other.log())
	}
	waitFor(t, 10*time.Second, "the restarted host's record", func() error {
		if r, _ := f.rawRecord(other.name); r.Instance == first.Instance {
			return fmt.Errorf("record still of instance %s", r.Instance)
		}
		return nil
	})
}

// TestFarmEtcdDown: with etcd stopped entirely, hosts keep serving under
// load with no failed request; the tool exits 10 naming the endpoint and
// changes nothing; a host restarted meanwhile serves its local copy; once
// etcd is back a change converges on every host.
func TestFarmEtcdDown(t *testing.T) {
	t.Parallel()
	heavy(t)
	etcd := etcdtest.Start(t)
	f := newFarm(t, []string{etcd.Endpoint}, 3)
	f.hosts[0].addTestPool("FarmA", "/")
	mport := freePort(t)
	murl := fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
	f.hosts[0].start("--metrics", fmt.Sprintf("127.0.0.1:%d", mport))
	for _, m := range f.hosts[1:] {
		m.start()
	}
	connected := func() float64 {
		v, ok := metricValue(scrape(t, murl), "poolctl_store_connected", nil)
		if !ok {
			t.Fatal("no poolctl_store_connected")
		}
		return v
	}
	if v := connected(); v != 1 {
		t.Errorf("poolctl_store_connected = %v before the outage, want 1", v)
	}
	before := f.storeVersion()
	f.waitApplied(before)
	var loads []*bgLoad
	for _, m := range f.hosts[:2] {
		l := m.startLoad(m.addr(), 32, constPath("/"))
		l.progress(t, 100, "before the outage on "+m.name)
		loads = append(loads, l)
	}
	etcd.Stop()
	t.Log("etcd stopped")
	for _, m := range f.hosts {
		m.waitLog("lost etcd")
	}
	t.Log("every host lost etcd")
	if v := connected(); v != 0 {
		t.Errorf("poolctl_store_connected = %v during the outage, want 0", v)
	}
	out, errs, code := f.hosts[0].poolctl("set", "apppool", "FarmA", "/queueLength:777")
	if code != 10 || !strings.Contains(errs, etcd.Endpoint) {
		t.Fatalf("set while etcd is down: exit %d, want 10 naming %s\n%s%s", code, etcd.Endpoint, out, errs)
	}
	// A host restarted while etcd is down serves its local copy.
	h3 := f.hosts[2]
	h3.stopHost()
	t.Log("h3 stopped")
	h3.start()
	h3.waitLog("serving the local copy")
	t.Log("h3 serves its local copy")
	if code, body := h3.get("/"); code != 200 || !strings.Contains(body, "pool=FarmA") {
		t.Fatalf("restarted host: GET / = %d %q\n%s", code, body, h3.log())
	}
	for i, l := range loads {
		l.progress(t, 200, "during the outage on "+f.hosts[i].name)
	}
	etcd.Restart()
	t.Log("etcd restarted")
	if v := f.storeVersion(); v != before {
		t.Fatalf("the store changed while etcd was down: %s, was %s", v, before)
	}
	f.hosts[1].run("set", "apppool", "FarmA", "/queueLength:888")
	after := f.storeVersion()
	f.waitApplied(after)
	t.Log("every host applied the change")
	if v := connected(); v != 1 {
		t.Errorf("poolctl_store_connected = %v after the outage, want 1", v)
	}
	recs, _ := f.records()
	for _, m := range f.hosts {
		if r := recs[m.name]; !r.Connected || r.Offline {
			t.Errorf("host %s after etcd returned: %+v", m.name, r)
		}
	}
	for i, l := range loads {
		l.progress(t, 100, "after the outage on "+f.hosts[i].name)
		checkNoFailure(t, f.hosts[i].hostEnv, "load on "+f.hosts[i].name, l.finish())
	}
}

// TestFarmEtcdLeaderKilled: in a 3-member etcd cluster, stopping the
// leader under 32-connection load on each host: a write through the tool
// succeeds after the election, every host applies it, and no request
// fails.
func TestFarmEtcdLeaderKilled(t *testing.T) {
	t.Parallel()
	heavy(t)
	cluster := etcdtest.StartCluster(t, 3)
	f := newFarm(t, cluster.Endpoints(), 3)
	f.hosts[0].addTestPool("FarmA", "/")
	for _, m := range f.hosts {
		m.start()
	}
	f.waitApplied(f.storeVersion())
	var loads []*bgLoad
	for _, m := range f.hosts {
		l := m.startLoad(m.addr(), 32, constPath("/"))
		l.progress(t, 100, "before the leader goes on "+m.name)
		loads = append(loads, l)
	}
	leader := cluster.Leader()
	cluster.StopMember(leader)
	t.Logf("stopped the leader, member %d", leader)
	f.hosts[1].run("set", "apppool", "FarmA", "/queueLength:999")
	f.waitApplied(f.storeVersion())
	for i, l := range loads {
		l.progress(t, 100, "after the election on "+f.hosts[i].name)
		checkNoFailure(t, f.hosts[i].hostEnv, "load on "+f.hosts[i].name, l.finish())
	}
}

// TestListenAddress: with --listen-address, the '*' of a binding listens
// on that address only (a file store too): the site answers there and
// nothing listens on the port at another loopback address.
func TestListenAddress(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.run("set", "site", "Default Web Site", fmt.Sprintf("/bindings:http/*:%d:", e.port))
	e.launchHost("--listen-address", "127.0.0.5")
	at := func(ip string) error {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("%s:%d", ip, e.port), 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
	waitFor(t, 10*time.Second, "the site listens on 127.0.0.5", func() error { return at("127.0.0.5") })
	if err := at("127.0.0.1"); err == nil {
		t.Error("the site also listens on 127.0.0.1")
	}
	out := e.run("list", "site", "/text:*")
	if !strings.Contains(out, fmt.Sprintf("*:%d:", e.port)) {
		t.Errorf("the store's binding changed:\n%s", out)
	}
}
