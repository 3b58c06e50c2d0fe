package hosttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/poolctl/poolctl/runstate"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// ctlStartHost starts `poolctl host` with extra host flags and waits until
// it answers on its socket.
func ctlStartHost(e *hostEnv, hostFlags ...string) {
	e.t.Helper()
	e.launchHost(hostFlags...)
}

// ctlOffline runs the tool against the store with a socket path where no
// host listens, so the running host is not told about the change.
func ctlOffline(e *hostEnv, storePath string, args ...string) {
	e.t.Helper()
	full := append([]string{"--config", storePath, "--socket", filepath.Join(e.dir, "nohost", "host.sock")}, args...)
	out, err := exec.Command(e.bin, full...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("poolctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// ctlShadowStore returns the bytes of the store as it would be after the
// tool commands cmds, without touching the real store or telling the host.
func ctlShadowStore(e *hostEnv, cmds ...[]string) []byte {
	e.t.Helper()
	cur, err := os.ReadFile(e.store)
	if err != nil {
		e.t.Fatal(err)
	}
	dir, err := os.MkdirTemp(e.dir, "shadow")
	if err != nil {
		e.t.Fatal(err)
	}
	path := filepath.Join(dir, filepath.Base(e.store))
	if err := os.WriteFile(path, cur, 0o644); err != nil {
		e.t.Fatal(err)
	}
	for _, c := range cmds {
		ctlOffline(e, path, c...)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// ctlGet fetches url and returns the status and body, or an error.
func ctlGet(url string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), err
}

// ctlServedBy waits until url answers 200 from a worker of pool.
func ctlServedBy(e *hostEnv, d time.Duration, url, pool string) {
	e.t.Helper()
	waitFor(e.t, d, url+" served by "+pool, func() error {
		code, body, err := ctlGet(url)
		if err != nil {
			return err
		}
		if code != 200 || !strings.Contains(body, "pool="+pool+"\n") {
			return fmt.Errorf("%d %q", code, body)
		}
		return nil
	})
}

// ctlRefuses waits until nothing accepts TCP connections on addr.
func ctlRefuses(t *testing.T, d time.Duration, addr string) {
	t.Helper()
	waitFor(t, d, addr+" refuses connections", func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return nil
		}
		c.Close()
		return fmt.Errorf("%s still accepts", addr)
	})
}

// ctlLogWait waits until the host's log contains s.
func ctlLogWait(e *hostEnv, d time.Duration, s string) {
	e.t.Helper()
	waitFor(e.t, d, fmt.Sprintf("host log line %q", s), func() error {
		if strings.Contains(e.log(), s) {
			return nil
		}
		return errors.New("not logged yet")
	})
}

// TestSecondHostRefusedStaleSocketReplaced: a second host on the same
// socket fails at once saying another host listens, and the first keeps
// serving; after the first dies by SIGKILL its socket file stays, and a new
// host replaces it.
func TestSecondHostRefusedStaleSocketReplaced(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/", "/startMode:AlwaysRunning")
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	before := e.workers("P")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	second := exec.CommandContext(ctx, e.bin, "--config", e.store, "--socket", e.socket, "host", "--state-dir", filepath.Join(e.dir, "state2"), "--log-level", "debug")
	start := time.Now()
	out, err := second.CombinedOutput()
	took := time.Since(start)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 {
		t.Fatalf("second host: %v, want a failure exit\n%s", err, out)
	}
	// "At once" means without waiting for anything: the context above is
	// the guard against a second host that hangs (it is killed and fails
	// the message checks below).
	t.Logf("second host failed after %s", took.Round(time.Millisecond))
	for _, want := range []string{"another poolctl host is listening", e.socket} {
		if !strings.Contains(string(out), want) {
			t.Errorf("second host's message lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range []string{"listen on", "pool started", "worker ready"} {
		if strings.Contains(string(out), bad) {
			t.Errorf("the second host logged %q: it touched listeners or pools before finding the socket taken:\n%s", bad, out)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, "state2")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the second host created its state directory (events) before finding the socket taken: %v", err)
	}

	// The first host is untouched.
	if fi, err := os.Stat(e.socket); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("the first host's socket after the second host failed: %v %v", fi, err)
	}
	ctlServedBy(e, 5*time.Second, e.url("/"), "P")
	if after := e.workers("P"); !slices.Equal(before, after) {
		t.Errorf("workers changed from %v to %v", before, after)
	}

	e.killHost()
	fi, err := os.Lstat(e.socket)
	if err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("after SIGKILL the socket file should stay behind (stale): %v %v", fi, err)
	}
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	if fi, err := os.Stat(e.socket); err != nil || fi.Mode().Perm() != 0o660 {
		t.Errorf("the replaced socket: %v %v, want mode 0660", fi, err)
	}
}

// TestHostSocketMode: the socket of a running host is a socket with mode
// 0660, owned by the host's uid.
func TestHostSocketMode(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.startHost()
	fi, err := os.Stat(e.socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o660 {
		t.Errorf("socket %v, want a socket with mode 0660", fi.Mode())
	}
	if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Geteuid() {
		t.Errorf("socket owned by uid %d, want the host's %d", st.Uid, os.Geteuid())
	}
}

// ctlNobody runs the tool as uid/gid 65534 with supplementary groups.
type ctlNobody struct {
	e   *hostEnv
	bin string
}

// newCtlNobody makes the host's files reachable for uid 65534 and copies
// the tool where it may run it.
func newCtlNobody(e *hostEnv) *ctlNobody {
	e.t.Helper()
	if os.Geteuid() != 0 {
		e.t.Skip("running the tool as uid 65534 and checking the host's refusal needs root")
	}
	// t.TempDir and os.MkdirTemp make 0700 directories: open the path to
	// the store and the socket for reading.
	for _, d := range []string{filepath.Dir(e.dir), e.dir, filepath.Dir(e.store), filepath.Dir(e.socket)} {
		if err := os.Chmod(d, 0o755); err != nil {
			e.t.Fatal(err)
		}
	}
	if err := os.Chmod(e.store, 0o644); err != nil {
		e.t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "pcnb")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	data, err := os.ReadFile(e.bin)
	if err != nil {
		e.t.Fatal(err)
	}
	bin := filepath.Join(dir, "poolctl")
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		e.t.Fatal(err)
	}
	return &ctlNobody{e: e, bin: bin}
}

func (n *ctlNobody) run(groups []uint32, args ...string) (stdout, stderr string, code int) {
	n.e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--config", n.e.store, "--socket", n.e.socket, "--timeout", "30s"}, args...)
	cmd := exec.CommandContext(ctx, n.bin, full...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=/nonexistent"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534, Groups: groups}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		n.e.t.Fatalf("poolctl %v as nobody: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// groupMu serialises groupadd runs (they lock /etc/group) and guards
// groupSeq, which keeps the groups of tests running in parallel apart.
var (
	groupMu  sync.Mutex
	groupSeq int
)

// ctlOperatorGroup returns a group for operators: a fresh one made with
// groupadd (removed at the end), else nogroup.
func ctlOperatorGroup(t *testing.T) (name string, gid uint32) {
	t.Helper()
	groupMu.Lock()
	defer groupMu.Unlock()
	groupSeq++
	name = "pcops" + strconv.Itoa(os.Getpid()) + "x" + strconv.Itoa(groupSeq)
	if out, err := exec.Command("groupadd", name).CombinedOutput(); err != nil {
		t.Logf("groupadd %s: %v %s; using nogroup", name, err, out)
		name = "nogroup"
	} else {
		t.Cleanup(func() {
			groupMu.Lock()
			defer groupMu.Unlock()
			_ = exec.Command("groupdel", name).Run()
		})
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		t.Skipf("no operator group available: %v", err)
	}
	n, err := strconv.Atoi(g.Gid)
	if err != nil {
		t.Fatal(err)
	}
	return name, uint32(n)
}

// TestControlPermissions: a caller who may open the socket but is neither
// root, the host's uid, nor an operator may read (list wp) but not write
// (recycle exits 7 with a message naming who may); a member of the
// host's --operator-group may recycle.
func TestControlPermissions(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	nb := newCtlNobody(e)
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	pids := e.workers("P")
	if len(pids) != 1 {
		t.Fatalf("workers of P: %v", pids)
	}

	// Without an operator group the socket is root's group: nobody gets in
	// through supplementary group 0, which grants no write.
	rootGroup := []uint32{0}
	out, errs, code := nb.run(rootGroup, "list", "wp")
	if code != 0 || !strings.Contains(out, strconv.Itoa(pids[0])) {
		t.Fatalf("list wp as nobody: exit %d\n%s%s\nwant 0 and worker %d listed", code, out, errs, pids[0])
	}
	out, errs, code = nb.run(rootGroup, "recycle", "apppool", "P")
	if code != 7 {
		t.Fatalf("recycle as nobody: exit %d, want 7 (permission denied)\n%s%s", code, out, errs)
	}
	for _, want := range []string{"uid 65534 may not change the host", "writes need root"} {
		if !strings.Contains(errs, want) {
			t.Errorf("recycle as nobody: message lacks %q:\n%s", want, errs)
		}
	}
	if after := e.workers("P"); !slices.Equal(after, pids) {
		t.Errorf("a refused recycle changed the workers from %v to %v", pids, after)
	}
	// Without any group of the socket, nobody cannot even connect.
	t.Logf("recycle as a reader: %s", errs)
	if _, errs, code := nb.run(nil, "recycle", "apppool", "P"); code != 7 || !strings.Contains(errs, e.socket) || strings.Contains(errs, "store you may write") {
		t.Errorf("recycle as nobody outside the socket's group: exit %d, want 7 and the socket named (not a store hint)\n%s", code, errs)
	} else {
		t.Logf("recycle without access to the socket: %s", errs)
	}

	e.stopHost()
	group, gid := ctlOperatorGroup(t)
	ctlStartHost(e, "--operator-group", group)
	if fi, err := os.Stat(e.socket); err != nil || fi.Sys().(*syscall.Stat_t).Gid != gid || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket with --operator-group %s: %v %v, want group %d and mode 0660", group, fi, err, gid)
	}
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	pids = e.workers("P")
	out, errs, code = nb.run([]uint32{gid}, "recycle", "apppool", "P")
	if code != 0 {
		t.Fatalf("recycle as nobody in operator group %s (%d): exit %d\n%s%s\n%s", group, gid, code, out, errs, e.log())
	}
	if !strings.Contains(out, "successfully recycled") {
		t.Errorf("recycle as an operator printed %q", out)
	}
	// The old worker drains and stops; a new one replaces it.
	waitFor(t, 15*time.Second, "the old worker replaced", func() error {
		after := e.workers("P")
		if len(after) != 1 || slices.Equal(after, pids) {
			return fmt.Errorf("workers %v (before the recycle %v)", after, pids)
		}
		return nil
	})
}

// TestReconcileOnStoreFileChange: a store changed behind the host's back
// (the tool could not reach the socket) takes effect through the file
// watch, without anyone telling the host.
func TestReconcileOnStoreFileChange(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	ctlOffline(e, e.store, "add", "apppool", "/name:N", "/processModel.command:"+e.testworker, "/processModel.pingPath:/health")
	ctlOffline(e, e.store, "add", "app", "/site.name:Default Web Site", "/path:/new", "/physicalPath:"+e.dir, "/applicationPool:N")
	ctlServedBy(e, 10*time.Second, e.url("/new"), "N")
	ctlServedBy(e, 5*time.Second, e.url("/"), "P")
}

// TestReconcileOnSIGHUP: a change the file watch cannot see (written
// through a hard link in another directory) takes effect on SIGHUP.
func TestReconcileOnSIGHUP(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	next := ctlShadowStore(e,
		[]string{"add", "apppool", "/name:H", "/processModel.command:" + e.testworker, "/processModel.pingPath:/health"},
		[]string{"add", "app", "/site.name:Default Web Site", "/path:/hup", "/physicalPath:" + e.dir, "/applicationPool:H"})
	linkDir := filepath.Join(e.dir, "elsewhere")
	if err := os.Mkdir(linkDir, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(linkDir, "store.toml")
	if err := os.Link(e.store, link); err != nil {
		t.Skipf("hard link to the store: %v", err)
	}
	if err := os.WriteFile(link, next, 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing told the host yet: the old application still takes /hup.
	if code, body, err := ctlGet(e.url("/hup")); err != nil || code != 200 || !strings.Contains(body, "pool=P\n") {
		t.Fatalf("GET /hup before SIGHUP = %d %q %v, want pool P", code, body, err)
	}
	if err := e.host.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ctlServedBy(e, 10*time.Second, e.url("/hup"), "H")
	ctlLogWait(e, 5*time.Second, "SIGHUP: reconciling")
}

// TestBadStoreKeepsRunningConfig: a store that does not load leaves what
// runs untouched and is reported (in the log, and to a reconcile call);
// once fixed, the next change applies.
func TestBadStoreKeepsRunningConfig(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	pids := e.workers("P")
	fixed := ctlShadowStore(e,
		[]string{"add", "apppool", "/name:F", "/processModel.command:" + e.testworker, "/processModel.pingPath:/health"},
		[]string{"add", "app", "/site.name:Default Web Site", "/path:/fixed", "/physicalPath:" + e.dir, "/applicationPool:F"})

	if err := os.WriteFile(e.store, []byte("[[applicationPools]\nname = = 'garbage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctlLogWait(e, 10*time.Second, "store did not load")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := hostapi.NewClient(e.socket).Reconcile(ctx)
	if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), "keeps its running configuration") {
		t.Errorf("reconcile with a bad store: %v, want ErrInvalid saying the running configuration stays", err)
	}
	for i := 0; i < 3; i++ {
		if code, body, err := ctlGet(e.url("/")); err != nil || code != 200 || !strings.Contains(body, "pool=P\n") {
			t.Fatalf("GET / with a bad store = %d %q %v, want 200 from P\n%s", code, body, err, e.log())
		}
	}
	sites, err := hostapi.NewClient(e.socket).Sites(ctx)
	if err != nil || len(sites) != 1 || sites[0].State != runstate.SiteStarted {
		t.Errorf("sites with a bad store: %+v %v, want the running one", sites, err)
	}

	// Fix the store (atomically, as the tool writes it) with a new app.
	tmp := e.store + ".fix"
	if err := os.WriteFile(tmp, fixed, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, e.store); err != nil {
		t.Fatal(err)
	}
	ctlServedBy(e, 10*time.Second, e.url("/fixed"), "F")
	ctlServedBy(e, 5*time.Second, e.url("/"), "P")
	if after := e.workers("P"); !slices.Equal(after, pids) {
		t.Errorf("P's workers went from %v to %v though its settings did not change", pids, after)
	}
}

// TestSiteBindingsChangeLive: a new site's binding serves at once, a
// changed binding moves, and a deleted site's port closes, all without a
// restart.
func TestSiteBindingsChangeLive(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.run("add", "apppool", "/name:S", "/processModel.command:"+e.testworker, "/processModel.pingPath:/health")
	e.startHost()
	hostPID := e.host.Process.Pid
	p2, p3 := freePort(t), freePort(t)
	addr2, addr3 := fmt.Sprintf("127.0.0.1:%d", p2), fmt.Sprintf("127.0.0.1:%d", p3)

	e.run("add", "site", "/name:Second", "/bindings:http/"+addr2+":", "/physicalPath:"+e.dir, "/applicationPool:S")
	// The tool waits for the host's reconcile: the port serves now.
	if code, body, err := ctlGet("http://" + addr2 + "/"); err != nil || code != 200 || !strings.Contains(body, "pool=S\n") {
		t.Fatalf("new site right after add: %d %q %v\n%s", code, body, err, e.log())
	}

	e.run("set", "site", "Second", "/bindings:http/"+addr3+":")
	if code, body, err := ctlGet("http://" + addr3 + "/"); err != nil || code != 200 || !strings.Contains(body, "pool=S\n") {
		t.Fatalf("moved site on its new port: %d %q %v\n%s", code, body, err, e.log())
	}
	ctlRefuses(t, 10*time.Second, addr2)

	e.run("delete", "site", "Second")
	ctlRefuses(t, 10*time.Second, addr3)
	ctlServedBy(e, 5*time.Second, e.url("/"), "P")
	if e.host == nil || e.host.Process.Pid != hostPID {
		t.Errorf("the host was restarted")
	}
}

// TestBindingPortInUse: a binding whose port is taken does not stop the
// host: the other sites serve, the log names the address, and a later
// reconcile listens once the port is free.
func TestBindingPortInUse(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	busy := held.Addr().String()
	e.run("add", "site", "/name:Busy", "/bindings:http/"+busy+":", "/physicalPath:"+e.dir, "/applicationPool:P")
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	ctlLogWait(e, 5*time.Second, "listen on "+busy)
	if !strings.Contains(e.log(), "address already in use") {
		t.Errorf("the log does not say why %s failed:\n%s", busy, e.log())
	}
	held.Close()
	if err := e.host.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	ctlServedBy(e, 10*time.Second, "http://"+busy+"/", "P")
}

// TestHostUnknownOperatorGroup: an --operator-group that does not exist
// stops the host at once, naming the group, before it takes the socket or
// starts anything.
func TestHostUnknownOperatorGroup(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, e.bin, "--config", e.store, "--socket", e.socket, "host", "--state-dir", e.state,
		"--operator-group", "no-such-group-pc").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 0 || !strings.Contains(string(out), `operator group "no-such-group-pc"`) {
		t.Fatalf("host with an unknown operator group: %v\n%s\nwant a failure naming the group", err, out)
	}
	if _, err := os.Lstat(e.socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
	if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), time.Second); err == nil {
		c.Close()
		t.Errorf("something listens on the site port after the host failed")
	}
}

// TestSocketGroupReadersOperatorsWriters: with --socket-group the socket
// belongs to the readers' group, members of it may read but not write,
// and members of both it and --operator-group may write.
func TestSocketGroupReadersOperatorsWriters(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	nb := newCtlNobody(e)
	group, gid := ctlOperatorGroup(t)
	const readers = 65534 // nogroup: nobody's own group
	ctlStartHost(e, "--operator-group", group, "--socket-group", strconv.Itoa(readers))
	if fi, err := os.Stat(e.socket); err != nil || fi.Sys().(*syscall.Stat_t).Gid != readers {
		t.Fatalf("socket with --socket-group %d: %v %v", readers, fi, err)
	}
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	if out, errs, code := nb.run([]uint32{readers}, "list", "wp"); code != 0 {
		t.Fatalf("list wp as a reader: exit %d\n%s%s", code, out, errs)
	}
	if _, errs, code := nb.run([]uint32{readers}, "recycle", "apppool", "P"); code != 7 || !strings.Contains(errs, "members of group "+group) {
		t.Fatalf("recycle as a reader: exit %d, want 7 naming the operator group\n%s", code, errs)
	}
	if out, errs, code := nb.run([]uint32{readers, gid}, "recycle", "apppool", "P"); code != 0 {
		t.Fatalf("recycle as a reader in the operator group: exit %d\n%s%s\n%s", code, out, errs, e.log())
	}
}
