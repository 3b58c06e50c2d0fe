package hosttest

// The farm as one object from the tool (issue 11): list host, list wp and
// list request across hosts, the acknowledgement of a write, a rolling
// recycle under load, and 100 writer processes against one store in etcd.
// Every test starts its own etcd in this process (internal/etcdtest) and
// real `poolctl host` processes (farm_harness_test.go).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/internal/etcdtest"
	"github.com/poolctl/poolctl/runstate"
)

// ftStart starts every host of a farm of n on a fresh etcd, with a test
// pool serving "/" (LocalSystem, so no per-pool account is needed), with
// extra host flags.
func ftStart(t *testing.T, n int, pool string, flags ...string) *farmEnv {
	t.Helper()
	srv := etcdtest.Start(t)
	f := newFarm(t, []string{srv.Endpoint}, n)
	f.hosts[0].addTestPool(pool, "/", "/processModel.identityType:LocalSystem")
	for _, m := range f.hosts {
		m.start(flags...)
	}
	f.waitApplied(f.storeVersion())
	return f
}

// ftHostRows runs list host /json and returns its rows by host name.
func ftHostRows(t *testing.T, m *farmMember) map[string]map[string]any {
	t.Helper()
	out := m.run("list", "host", "/json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("list host /json: %v\n%s", err, out)
	}
	byName := map[string]map[string]any{}
	for _, r := range rows {
		byName[fmt.Sprint(r["name"])] = r
	}
	return byName
}

// TestFarmToolListAndAck: list host shows three Ready hosts on the
// store's version; list wp shows every host's workers with HOST, and
// /host:NAME asks one; a write is acknowledged silently when every host
// applied it, and with the background message naming the one host that
// is SIGSTOPped (which catches up after SIGCONT).
func TestFarmToolListAndAck(t *testing.T) {
	t.Parallel()
	const pool = "FtList"
	// A lease longer than the test: the SIGSTOPped host stays alive (not
	// Gone), so the tool waits for it.
	f := ftStart(t, 3, pool, "--lease-ttl", "5m")
	tool := f.hosts[0]

	rows := ftHostRows(t, tool)
	want := f.storeVersion()
	for _, m := range f.hosts {
		r, ok := rows[m.name]
		if !ok {
			t.Fatalf("list host has no row for %s: %v", m.name, rows)
		}
		if r["state"] != "Ready" || r["storeVersion"] != want {
			t.Errorf("%s: state %v store %v, want Ready on %s", m.name, r["state"], r["storeVersion"], want)
		}
		if addrs, _ := r["address"].([]any); !slices.Contains(addrs, any(m.addr())) {
			t.Errorf("%s: addresses %v, want %s among them", m.name, addrs, m.addr())
		}
	}
	table := tool.run("list", "host")
	for _, col := range []string{"HOST", "ADDRESS", "VERSION", "STORE", "LAG", "STATE", "POOLS", "WORKERS", "UPDATED"} {
		if !strings.Contains(table, col) {
			t.Errorf("list host table has no %s column:\n%s", col, table)
		}
	}

	// A worker on every host, then list wp across the farm.
	pids := map[string]int{}
	for _, m := range f.hosts {
		code, body := m.get("/")
		if code != 200 {
			t.Fatalf("GET / on %s = %d %q", m.name, code, body)
		}
		pids[m.name] = pidOf(body)
	}
	out := tool.run("list", "wp", "/apppool.name:"+pool)
	if !strings.HasPrefix(out, "HOST") {
		t.Errorf("list wp on a farm: no HOST column first:\n%s", out)
	}
	for _, m := range f.hosts {
		if !strings.Contains(out, fmt.Sprintf("%s ", m.name)) || !strings.Contains(out, fmt.Sprint(pids[m.name])) {
			t.Errorf("list wp: no row of %s with worker %d:\n%s", m.name, pids[m.name], out)
		}
	}
	one := tool.run("list", "wp", "/host:h2", "/text:wp.name")
	if got := strings.Fields(one); !slices.Equal(got, []string{fmt.Sprint(pids["h2"])}) {
		t.Errorf("list wp /host:h2 = %q, want only h2's worker %d", one, pids["h2"])
	}
	if _, errs, code := tool.poolctl("list", "request", "/host:h1"); code != 0 {
		t.Errorf("list request /host:h1: exit %d %s", code, errs)
	}

	// Every host applies the change: the tool says nothing more.
	stdout, stderr, code := tool.poolctl("set", "apppool", pool, "/queueLength:1500")
	if code != 0 || stderr != "" || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("set on a farm of live hosts: exit %d, stdout %q, stderr %q; want one line and no stderr", code, stdout, stderr)
	}
	v := f.storeVersion()
	recs, _ := f.records()
	for _, m := range f.hosts {
		if recs[m.name].StoreVersion != v {
			t.Errorf("set returned before %s applied %s: %+v", m.name, v, recs[m.name])
		}
	}

	// h3 stopped: the write is saved, and the tool says h3 applies it in
	// the background.
	h3 := f.hosts[2]
	if err := syscall.Kill(h3.host.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, h3.host.Process.Pid)
	cont := func() { syscall.Kill(h3.host.Process.Pid, syscall.SIGCONT) }
	t.Cleanup(cont)
	stdout, stderr, code = tool.poolctl("--timeout", "2s", "set", "apppool", pool, "/queueLength:1600")
	cont()
	if code != 0 || !strings.Contains(stdout, "changed") {
		t.Fatalf("set with h3 stopped: exit %d, %q %q", code, stdout, stderr)
	}
	if want := "saved; 1 of 3 hosts (h3) applies it in the background"; !strings.Contains(stderr, want) {
		t.Errorf("set with h3 stopped: stderr %q, want %q", stderr, want)
	}
	f.waitApplied(f.storeVersion())

	// start/stop persist in the store and every host follows; start of a
	// pool started everywhere is "already" (exit 5).
	if _, errs, code := tool.poolctl("start", "apppool", pool); code != 5 {
		t.Errorf("start of a started pool on the farm: exit %d %s, want 5", code, errs)
	}
	if out := tool.run("stop", "apppool", pool); !strings.Contains(out, "successfully stopped on 3 hosts") {
		t.Errorf("stop on the farm: %q", out)
	}
	for _, m := range f.hosts {
		m.waitPoolState(pool, runstate.PoolStopped, 30*time.Second)
	}
	if out := tool.run("start", "apppool", pool); !strings.Contains(out, "successfully started on 3 hosts") {
		t.Errorf("start on the farm: %q", out)
	}
	for _, m := range f.hosts {
		m.waitPoolState(pool, runstate.PoolStarted, 30*time.Second)
	}
}

// TestFarmToolGone: a host killed with SIGKILL turns Gone in list host
// once its lease (3s) expires; the others stay Ready; list wp reports it
// on stderr and lists the others; delete host forgets it once Gone and
// refuses a live host.
func TestFarmToolGone(t *testing.T) {
	t.Parallel()
	f := ftStart(t, 3, "FtGone")
	tool := f.hosts[0]
	if _, errs, code := tool.poolctl("delete", "host", "h2"); code != 8 {
		t.Errorf("delete host of a live host: exit %d %s, want 8", code, errs)
	}
	h2 := f.hosts[1]
	h2.killHost()
	// The lease TTL is farmLeaseTTL; the deadline is a failure guard only.
	waitFor(t, guard(20*time.Second), "h2 Gone in list host", func() error {
		rows := ftHostRows(t, tool)
		if s := rows["h2"]["state"]; s != "Gone" {
			return fmt.Errorf("h2 is %v", s)
		}
		return nil
	})
	rows := ftHostRows(t, tool)
	for _, n := range []string{"h1", "h3"} {
		if rows[n]["state"] != "Ready" {
			t.Errorf("%s is %v, want Ready", n, rows[n]["state"])
		}
	}
	out, errs, code := tool.poolctl("list", "wp")
	if code != 0 || !strings.Contains(errs, "h2") || !strings.Contains(errs, "Gone") {
		t.Errorf("list wp with h2 Gone: exit %d, stderr %q; want 0 and h2 reported Gone\n%s", code, errs, out)
	}
	if _, errs, code := tool.poolctl("list", "wp", "/host:h2"); code != 6 {
		t.Errorf("list wp /host:h2 (Gone): exit %d %s, want 6", code, errs)
	}
	tool.run("delete", "host", "h2")
	if _, ok := ftHostRows(t, tool)["h2"]; ok {
		t.Error("h2 still listed after delete host")
	}
}

// ftRecycleSpan reads a host's events and returns when its on-demand
// recycle of pool began and when the last new worker was ready.
func ftRecycleSpan(t *testing.T, m *farmMember, pool string, olds []int) (from, to time.Time) {
	t.Helper()
	fh, err := os.Open(filepath.Join(m.state, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev events.Event
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Pool != pool {
			continue
		}
		switch {
		case ev.ID == events.RecycleOnDemand && from.IsZero():
			from = ev.Time
		case ev.ID == events.WorkerStarted && !from.IsZero() && !slices.Contains(olds, ev.PID):
			to = ev.Time
		}
	}
	if from.IsZero() || to.IsZero() {
		t.Fatalf("%s: no on-demand recycle of %s with a new worker in its events (from %v to %v)", m.name, pool, from, to)
	}
	return from, to
}

// TestFarmToolRollingRecycle: a rolling recycle of a pool on three hosts,
// each under 32 connections of load: no request fails, the tool prints
// each host's result in turn, and the hosts' recycles do not overlap (the
// next host's recycle begins after the previous host's new workers are
// ready, by the hosts' own event times).
func TestFarmToolRollingRecycle(t *testing.T) {
	t.Parallel()
	heavy(t)
	const pool = "FtRoll"
	f := ftStart(t, 3, pool)
	olds := map[string]int{}
	for _, m := range f.hosts {
		code, body := m.get("/")
		if code != 200 {
			t.Fatalf("GET / on %s = %d", m.name, code)
		}
		olds[m.name] = pidOf(body)
	}
	var loads []*bgLoad
	for _, m := range f.hosts {
		l := m.startLoad(m.addr(), 32, constPath("/"))
		loads = append(loads, l)
		l.progress(t, 100, "before the recycle on "+m.name)
	}
	out := f.hosts[0].run("recycle", "apppool", pool)
	for i, l := range loads {
		l.progress(t, 100, "after the recycle on "+f.hosts[i].name)
	}
	for i, l := range loads {
		checkNoFailure(t, f.hosts[i].hostEnv, "load on "+f.hosts[i].name, l.finish())
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("recycle printed %q, want a line per host", out)
	}
	for i, m := range f.hosts {
		if !strings.HasPrefix(lines[i], "recycled on "+m.name+" (") {
			t.Errorf("line %d = %q, want the result of %s", i+1, lines[i], m.name)
		}
	}
	type span struct {
		name     string
		from, to time.Time
	}
	var spans []span
	for _, m := range f.hosts {
		from, to := ftRecycleSpan(t, m, pool, []int{olds[m.name]})
		spans = append(spans, span{m.name, from, to})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from.Before(spans[j].from) })
	for i := 1; i < len(spans); i++ {
		if spans[i].from.Before(spans[i-1].to) {
			t.Errorf("%s's recycle began at %s, before %s's new worker was ready at %s",
				spans[i].name, spans[i].from.Format(time.StampMicro), spans[i-1].name, spans[i-1].to.Format(time.StampMicro))
		}
	}
}

// TestFarmToolConcurrentWriters: 100 poolctl processes write at once to one
// store in etcd, half each to its own pool and half to one shared pool's
// environment: no change is lost.
func TestFarmToolConcurrentWriters(t *testing.T) {
	t.Parallel()
	heavy(t)
	srv := etcdtest.Start(t)
	f := newFarm(t, []string{srv.Endpoint}, 1)
	tool := f.hosts[0]
	const n = 100
	for i := range n / 2 {
		tool.run("add", "apppool", fmt.Sprintf("/name:FtW%02d", i))
	}
	tool.run("add", "apppool", "/name:FtShared")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := map[int]bool{}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var args []string
			if i%2 == 0 {
				args = []string{"set", "apppool", fmt.Sprintf("FtW%02d", i/2), fmt.Sprintf("/queueLength:%d", 2000+i)}
			} else {
				args = []string{"set", "apppool", "FtShared", fmt.Sprintf("/+environmentVariables.[name='W%03d',value='%d']", i, i)}
			}
			out, stderr, code := tool.poolctl(args...)
			mu.Lock()
			defer mu.Unlock()
			switch code {
			case 0:
				ok[i] = true
			default:
				t.Errorf("%v: exit %d %s%s", args, code, out, stderr)
			}
		}()
	}
	wg.Wait()
	if len(ok) != n {
		t.Fatalf("%d of %d writers succeeded", len(ok), n)
	}
	env := tool.run("list", "apppool", "FtShared", "/text:environmentVariables")
	for i := range n {
		switch {
		case i%2 == 0:
			got := strings.TrimSpace(tool.run("list", "apppool", fmt.Sprintf("FtW%02d", i/2), "/text:queueLength"))
			if ok[i] && got != fmt.Sprint(2000+i) {
				t.Errorf("FtW%02d queueLength = %q, want %d: a change was lost", i/2, got, 2000+i)
			}
			if !ok[i] && got == fmt.Sprint(2000+i) {
				t.Errorf("FtW%02d queueLength = %q: a writer that failed wrote", i/2, got)
			}
		case ok[i] != strings.Contains(env, fmt.Sprintf("W%03d=", i)):
			t.Errorf("FtShared: W%03d present = %v, writer succeeded = %v: %s", i, !ok[i], ok[i], env)
		}
	}
}
