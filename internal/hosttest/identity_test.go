package hosttest

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/apppool"
)

// procIDs returns the ids of a /proc/<pid>/status line (Uid, Gid, Groups).
func procIDs(t *testing.T, pid int, field string) []uint32 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		var out []uint32
		for _, f := range strings.Fields(rest) {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				t.Fatalf("/proc/%d/status %s: %v", pid, field, err)
			}
			out = append(out, uint32(n))
		}
		return out
	}
	t.Fatalf("/proc/%d/status has no %s line", pid, field)
	return nil
}

// procEnv returns one variable of a process's environment.
func procEnv(t *testing.T, pid int, name string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	val := ""
	for _, kv := range bytes.Split(b, []byte{0}) {
		if k, v, ok := strings.Cut(string(kv), "="); ok && k == name {
			val = v // the last one wins, as for getenv
		}
	}
	return val
}

// oneWorker makes the pool start a worker (a request to path) and returns
// its pid.
func (e *hostEnv) oneWorker(pool, path string) int {
	e.t.Helper()
	if code, body, _ := e.get(path); code != 200 {
		e.t.Fatalf("GET %s: %d %s\n%s", path, code, body, e.log())
	}
	pids := e.workers(pool)
	if len(pids) != 1 {
		e.t.Fatalf("pool %s: workers %v, want one", pool, pids)
	}
	return pids[0]
}

// runCmd runs a system command (useradd, groupadd ...) or fails the test.
func runCmd(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// TestIdentities runs one pool per identity type under a host started with
// --worker-group (through POOLCTL_WORKER_GROUP) and checks, from /proc,
// who each worker runs as.
func TestIdentities(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("identities need a root host (a host that is not root runs every worker as itself); run the tests as root")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("useradd is needed to create the SpecificUser account")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no nobody account for NetworkService")
	}
	suffix := strconv.Itoa(os.Getpid() % 100000)
	group, userName := "pcidg"+suffix, "pcidu"+suffix
	runCmd(t, "groupadd", group)
	t.Cleanup(func() { _ = exec.Command("groupdel", group).Run() })
	home := filepath.Join(t.TempDir(), "home")
	runCmd(t, "useradd", "-M", "-d", home, "-s", "/bin/sh", userName)
	t.Cleanup(func() { _ = exec.Command("userdel", userName).Run() })
	g, err := user.LookupGroup(group)
	if err != nil {
		t.Fatal(err)
	}
	groupID, _ := strconv.ParseUint(g.Gid, 10, 32)
	u, err := user.Lookup(userName)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("POOLCTL_WORKER_GROUP", group)

	e := newHostEnv(t)
	e.addTestPool("IdA", "/a")
	e.addTestPool("IdB", "/b", "/processModel.manualGroupMembership:true")
	e.addTestPool("IdNet", "/net", "/processModel.identityType:NetworkService")
	e.addTestPool("IdUser", "/user", "/processModel.identityType:SpecificUser", "/processModel.userName:"+userName)
	e.addTestPool("IdGhost", "/ghost", "/processModel.identityType:SpecificUser", "/processModel.userName:no-such-user-"+suffix)
	e.addTestPool("IdSys", "/sys", "/processModel.identityType:LocalSystem")
	e.startHost()

	// The uids the host must have derived, computed the documented way
	// from the names of every pool of the store.
	ids := apppool.NewIdentities(apppool.IdentityOptions{})
	ids.SetPools(strings.Fields(e.run("list", "apppool", "/text:name")))
	uidA, err := ids.PoolUID("IdA")
	if err != nil {
		t.Fatal(err)
	}
	uidB, _ := ids.PoolUID("IdB")

	t.Run("ApplicationPoolIdentity", func(t *testing.T) {
		pid := e.oneWorker("IdA", "/a/")
		if got := procIDs(t, pid, "Uid"); got[0] != uidA || got[1] != uidA {
			t.Errorf("IdA worker uid %v, want %d", got, uidA)
		}
		if got := procIDs(t, pid, "Gid"); got[0] != uidA {
			t.Errorf("IdA worker gid %v, want %d", got, uidA)
		}
		if got := procIDs(t, pid, "Groups"); !slices.Equal(got, []uint32{uint32(groupID)}) {
			t.Errorf("IdA worker groups %v, want only the worker group %d", got, groupID)
		}
		wantHome := filepath.Join(e.state, "home", "IdA")
		if got := procEnv(t, pid, "HOME"); got != wantHome {
			t.Errorf("IdA HOME %q, want %q", got, wantHome)
		}
		if got := procEnv(t, pid, "USER"); got != "apppool-IdA" {
			t.Errorf("IdA USER %q", got)
		}
		var st syscall.Stat_t
		if err := syscall.Stat(wantHome, &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != uidA || st.Mode&0o777 != 0o700 {
			t.Errorf("home %s: owner %d mode %o, want %d 0700", wantHome, st.Uid, st.Mode&0o777, uidA)
		}
		id := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(pid), "/text:identity"))
		if want := fmt.Sprintf("apppool-IdA uid %d (ApplicationPoolIdentity)", uidA); id != want {
			t.Errorf("list wp identity %q, want %q", id, want)
		}
	})

	t.Run("DistinctPoolsAndManualGroupMembership", func(t *testing.T) {
		pid := e.oneWorker("IdB", "/b/")
		if uidA == uidB {
			t.Fatalf("IdA and IdB derive the same uid %d", uidA)
		}
		if got := procIDs(t, pid, "Uid"); got[0] != uidB {
			t.Errorf("IdB worker uid %v, want %d", got, uidB)
		}
		if got := procIDs(t, pid, "Groups"); len(got) != 0 {
			t.Errorf("IdB (manualGroupMembership) groups %v, want none", got)
		}
	})

	t.Run("LogOwnership", func(t *testing.T) {
		e.oneWorker("IdA", "/a/")
		logA := filepath.Join(e.state, "logs", "IdA.log")
		var st syscall.Stat_t
		if err := syscall.Stat(logA, &st); err != nil {
			t.Fatal(err)
		}
		if st.Uid != uidA || st.Gid != uidA || st.Mode&0o777 != 0o640 {
			t.Errorf("%s: %d:%d mode %o, want %d:%d 0640", logA, st.Uid, st.Gid, st.Mode&0o777, uidA, uidA)
		}
		// Another pool's identity cannot read it.
		cat := exec.Command("cat", logA)
		cat.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uidB, Gid: uidB}}
		out, err := cat.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Permission denied") {
			t.Errorf("IdB's identity reads IdA's log: err %v, %s", err, out)
		}
	})

	t.Run("NetworkService", func(t *testing.T) {
		pid := e.oneWorker("IdNet", "/net/")
		if got := procIDs(t, pid, "Uid"); strconv.Itoa(int(got[0])) != nobody.Uid {
			t.Errorf("NetworkService worker uid %v, want nobody (%s)", got, nobody.Uid)
		}
		if id := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(pid), "/text:identity")); id != "nobody (NetworkService)" {
			t.Errorf("list wp identity %q", id)
		}
	})

	t.Run("SpecificUser", func(t *testing.T) {
		pid := e.oneWorker("IdUser", "/user/")
		if got := procIDs(t, pid, "Uid"); strconv.Itoa(int(got[0])) != u.Uid {
			t.Errorf("SpecificUser worker uid %v, want %s", got, u.Uid)
		}
		if got := procIDs(t, pid, "Gid"); strconv.Itoa(int(got[0])) != u.Gid {
			t.Errorf("SpecificUser worker gid %v, want %s", got, u.Gid)
		}
		if got := procIDs(t, pid, "Groups"); !slices.Contains(got, uint32(groupID)) {
			t.Errorf("SpecificUser worker groups %v lack the worker group %d", got, groupID)
		}
		for k, want := range map[string]string{"HOME": home, "USER": userName, "LOGNAME": userName, "SHELL": "/bin/sh"} {
			if got := procEnv(t, pid, k); got != want {
				t.Errorf("SpecificUser %s=%q, want %q", k, got, want)
			}
		}
	})

	t.Run("LocalSystem", func(t *testing.T) {
		pid := e.oneWorker("IdSys", "/sys/")
		if got := procIDs(t, pid, "Uid"); got[0] != 0 {
			t.Errorf("LocalSystem worker uid %v, want 0", got)
		}
		if id := strings.TrimSpace(e.run("list", "wp", strconv.Itoa(pid), "/text:identity")); id != "root (LocalSystem: unsafe)" {
			t.Errorf("list wp identity %q", id)
		}
		// A recycle launches another worker: still one warning per pool.
		e.run("recycle", "apppool", "IdSys")
		waitFor(t, 20*time.Second, "IdSys recycled", func() error {
			if pids := e.workers("IdSys"); len(pids) != 1 || pids[0] == pid {
				return fmt.Errorf("workers %v", pids)
			}
			return nil
		})
		if n := strings.Count(e.log(), "identityType LocalSystem"); n != 1 {
			t.Errorf("the host logged the LocalSystem warning %d times, want once\n%s", n, e.log())
		}
	})

	t.Run("UnknownSpecificUser", func(t *testing.T) {
		ghost := "no-such-user-" + suffix
		if code, _, _ := e.get("/ghost/"); code != 503 {
			t.Fatalf("GET /ghost/: %d, want 503", code)
		}
		waitFor(t, 15*time.Second, "IdGhost disabled", func() error {
			if st := strings.TrimSpace(e.run("list", "apppool", "IdGhost", "/text:state")); st != "Stopped" {
				return fmt.Errorf("state %s", st)
			}
			return nil
		})
		if reason := e.run("list", "apppool", "IdGhost", "/text:reason"); !strings.Contains(reason, ghost) {
			t.Errorf("reason %q does not name the user", reason)
		}
		code, _, h := e.get("/ghost/")
		if code != 503 || h.Get("X-Poolctl-Reason") != "AppOffline" {
			t.Errorf("GET /ghost/ after: %d %q, want 503 AppOffline", code, h.Get("X-Poolctl-Reason"))
		}
		if pids := e.workers("IdGhost"); len(pids) != 0 {
			t.Errorf("IdGhost workers %v", pids)
		}
		ev, err := os.ReadFile(filepath.Join(e.state, "events.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		var got5059, got5021 bool
		for _, line := range strings.Split(string(ev), "\n") {
			if !strings.Contains(line, `"pool":"IdGhost"`) || !strings.Contains(line, ghost) {
				continue
			}
			got5059 = got5059 || strings.Contains(line, `"id":5059`)
			got5021 = got5021 || strings.Contains(line, `"id":5021`)
		}
		if !got5059 || !got5021 {
			t.Errorf("events 5059 %v, 5021 %v naming %s, want both\n%s", got5059, got5021, ghost, ev)
		}
	})
}
