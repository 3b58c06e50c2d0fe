package hosttest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/proc"
)

// addCommandPool adds a pool whose workers run command (split like a
// shell), pinged like the test worker, with an application at path.
func (e *hostEnv) addCommandPool(name, path, command string, settings ...string) {
	e.t.Helper()
	args := append([]string{"add", "apppool", "/name:" + name, "/processModel.command:" + command,
		"/processModel.pingPath:/health", "/processModel.startupTimeLimit:00:00:20", "/processModel.shutdownTimeLimit:00:00:10",
		"/processModel.identityType:LocalSystem"}, settings...)
	e.run(args...)
	e.run("add", "app", "/site.name:Default Web Site", "/path:"+path, "/physicalPath:"+e.dir, "/applicationPool:"+name)
}

// skipWithoutWorkerCgroups skips the test when the host logged (at
// start-up, or at its first worker) that it cannot create worker cgroups
// on this machine.
func (e *hostEnv) skipWithoutWorkerCgroups() {
	e.t.Helper()
	if strings.Contains(e.log(), "worker cgroups: the host cannot create cgroups") {
		e.t.Skipf("no writable cgroup hierarchy here: only the process-group fallback applies\n%s", e.log())
	}
}

// escapedChildren returns the pids the escaping workers wrote into dir.
func escapedChildren(dir string) map[int]bool {
	ents, _ := os.ReadDir(dir)
	pids := map[int]bool{}
	for _, ent := range ents {
		if pid, err := strconv.Atoi(ent.Name()); err == nil {
			pids[pid] = true
		}
	}
	return pids
}

// newEscapedChild waits for a child pid not in old to appear in dir.
func newEscapedChild(t *testing.T, dir string, old map[int]bool) int {
	t.Helper()
	child := 0
	waitFor(t, 10*time.Second, "the worker's escaped child writes its pid", func() error {
		for pid := range escapedChildren(dir) {
			if !old[pid] {
				child = pid
				return nil
			}
		}
		return fmt.Errorf("no new child in %s", dir)
	})
	return child
}

func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	waitFor(t, 10*time.Second, what, func() error {
		if alive(pid) {
			return fmt.Errorf("process %d (%s) is still alive", pid, procState(pid))
		}
		return nil
	})
}

// escapingPool adds the pool Esc at /esc whose worker forks a child that
// leaves its process group (setsid) and closes the worker's pipes, writing
// its pid into the returned directory (those children are killed at
// cleanup).
func (e *hostEnv) escapingPool() string {
	e.t.Helper()
	kids := filepath.Join(e.dir, "kids")
	if err := os.Mkdir(kids, 0o755); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		for pid := range escapedChildren(kids) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	script := filepath.Join(e.dir, "escape.sh")
	body := "#!/bin/sh\n" +
		"setsid sh -c 'echo $$ > \"$0/$$\"; exec sleep 1000' " + kids + " </dev/null >/dev/null 2>&1 &\n" +
		"exec " + e.testworker + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		e.t.Fatal(err)
	}
	e.addCommandPool("Esc", "/esc", script)
	return kids
}

// escapedChild starts a worker of Esc and returns its escaped child (not
// in old), checking that it left the worker's process group.
func (e *hostEnv) escapedChild(kids string, old map[int]bool) int {
	e.t.Helper()
	if code, body, _ := e.get("/esc/"); code != 200 {
		e.t.Fatalf("GET /esc/ = %d %s", code, body)
	}
	e.skipWithoutWorkerCgroups()
	child := newEscapedChild(e.t, kids, old)
	worker := e.workers("Esc")[0]
	if pgid, err := syscall.Getpgid(child); err != nil || pgid == worker {
		e.t.Fatalf("child %d: process group %d (%v); want one of its own, not the worker's %d", child, pgid, err, worker)
	}
	return child
}

// TestWorkerChildrenDieOnStop: stopping the pool kills the child its
// worker forked into a process group of its own (the worker's cgroup is
// killed as a whole); so does a recycle of the worker.
func TestWorkerChildrenDieOnStop(t *testing.T) {
	e := newHostEnv(t)
	kids := e.escapingPool()
	e.startHost()
	child := e.escapedChild(kids, nil)
	e.run("recycle", "apppool", "Esc")
	waitGone(t, child, "the recycled worker's escaped child is killed")
	child2 := e.escapedChild(kids, map[int]bool{child: true})
	e.run("stop", "apppool", "Esc")
	waitGone(t, child2, "the stopped worker's escaped child is killed")
}

// TestLeftoversKilledAfterHostSIGKILL: a host killed with SIGKILL leaves
// its workers' escaped children behind (the workers die with it); the next
// host on the same state kills them when it starts.
func TestLeftoversKilledAfterHostSIGKILL(t *testing.T) {
	e := newHostEnv(t)
	kids := e.escapingPool()
	e.startHost()
	child := e.escapedChild(kids, nil)
	worker := e.workers("Esc")[0]
	e.killHost()
	waitGone(t, worker, "the worker dies with the host (parent-death signal)")
	if !alive(child) {
		t.Logf("child %d died with the host already", child)
	}
	e.startHost()
	waitGone(t, child, "the next host kills the child the killed host's worker left")
	// Any host that starts sweeps the cgroups of every host that is gone:
	// with the tests in parallel, another test's host may have been first.
	if !strings.Contains(e.log(), "killed processes left in the cgroups of an earlier host") {
		t.Logf("the leftover was killed, by the host of another test running beside this one")
	}
}

// TestThrottleUnderLoadAgainstUnlimited: a pool with cpu.action
// ThrottleUnderLoad at 50 % and a pool without a limit spin on the same
// single CPU; the limited pool gets less CPU than the unlimited one (every
// pool has a cgroup of its own, the limited one a lower weight).
func TestThrottleUnderLoadAgainstUnlimited(t *testing.T) {
	taskset, err := exec.LookPath("taskset")
	if err != nil {
		t.Skip("no taskset to pin the workers to one CPU")
	}
	e := newHostEnv(t)
	pin := taskset + " -c 0 " + e.testworker
	spin := "/+environmentVariables.[name='TW_SPIN',value='1']"
	e.addCommandPool("Limited", "/lim", pin, spin, "/cpu.limit:50000", "/cpu.action:ThrottleUnderLoad")
	e.addCommandPool("Unlimited", "/unl", pin, spin)
	e.startHost()
	for _, p := range []string{"/lim/", "/unl/"} {
		if code, body, _ := e.get(p); code != 200 {
			t.Fatalf("GET %s = %d %s", p, code, body)
		}
	}
	e.cpuCgroupDir("Limited", "action=ThrottleUnderLoad limit=50000")
	lim, unl := e.workers("Limited")[0], e.workers("Unlimited")[0]
	usage := func() (l, u time.Duration) {
		a, err := proc.GroupUsage(lim)
		if err != nil {
			t.Fatal(err)
		}
		b, err := proc.GroupUsage(unl)
		if err != nil {
			t.Fatal(err)
		}
		return a.CPU, b.CPU
	}
	l0, u0 := usage()
	// Measure until both have had a fair amount of CPU time between them
	// (the window grows on a busy machine; the deadline is a guard).
	var dl, du time.Duration
	waitFor(t, 20*time.Second, "both pools used CPU", func() error {
		l1, u1 := usage()
		dl, du = l1-l0, u1-u0
		if dl+du < 2*time.Second {
			return fmt.Errorf("limited %v, unlimited %v so far", dl, du)
		}
		return nil
	})
	t.Logf("on one shared CPU: ThrottleUnderLoad 50 %% pool %v, unlimited pool %v", dl, du)
	if dl >= du {
		t.Errorf("the ThrottleUnderLoad pool got %v of CPU, the unlimited pool %v: want the limited one held back", dl, du)
	}
}
