package hosttest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/internal/proc"
)

// cpuLimitEvent is events.CPULimit.
const cpuLimitEvent = 9100

// cpuCgroupDir waits for the host to log the cgroup it applied the pool's
// CPU settings to and returns it; it skips the test when the host says it
// cannot create cgroups here.
func (e *hostEnv) cpuCgroupDir(pool string, want string) string {
	e.t.Helper()
	re := regexp.MustCompile(`CPU limits applied.*pool=` + regexp.QuoteMeta(pool) + ` .*` + regexp.QuoteMeta(want) + `.*cgroup=(\S+)`)
	var dir string
	waitFor(e.t, 10*time.Second, "the host applies the pool's CPU limit", func() error {
		log := e.log()
		if strings.Contains(log, "the host cannot create cgroups") {
			return nil
		}
		m := re.FindAllStringSubmatch(log, -1)
		if m == nil {
			return fmt.Errorf("not logged yet:\n%s", log)
		}
		dir = m[len(m)-1][1]
		return nil
	})
	if dir == "" {
		e.t.Skipf("this machine has neither a writable cgroup v1 cpu hierarchy nor cgroup v2 with the cpu controller:\n%s", e.log())
	}
	return dir
}

// cpuShare measures the CPU share (CPU time / wall time) of a worker's
// process group over d, from /proc utime+stime.
func cpuShare(t *testing.T, pgid int, d time.Duration) float64 {
	t.Helper()
	u0, err := proc.GroupUsage(pgid)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	<-time.After(d) // the measuring window itself
	u1, err := proc.GroupUsage(pgid)
	if err != nil {
		t.Fatal(err)
	}
	return float64(u1.CPU-u0.CPU) / float64(time.Since(t0))
}

func readTrim(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestCPUThrottle: a worker that burns a CPU is held near cpu.limit (20 % of
// one CPU) by its pool's cgroup; raising the limit applies live;
// ThrottleUnderLoad swaps the cap for a weight; the cgroup goes away with
// the host.
func TestCPUThrottle(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("CpuThrottle", "/thr", "/+environmentVariables.[name='TW_SPIN',value='1']", "/processModel.identityType:LocalSystem",
		"/cpu.limit:20000", "/cpu.action:Throttle")
	e.startHost()
	if code, body, _ := e.get("/thr/"); code != 200 {
		t.Fatalf("GET = %d %s", code, body)
	}
	dir := e.cpuCgroupDir("CpuThrottle", "action=Throttle limit=20000")
	pid := e.workers("CpuThrottle")[0]
	procs := readTrim(t, filepath.Join(dir, "cgroup.procs"))
	if !strings.Contains(" "+strings.ReplaceAll(procs, "\n", " ")+" ", fmt.Sprintf(" %d ", pid)) {
		t.Fatalf("worker %d not in %s: %q", pid, dir, procs)
	}
	if _, err := os.Stat(filepath.Join(dir, "cpu.cfs_quota_us")); err == nil {
		if q := readTrim(t, filepath.Join(dir, "cpu.cfs_quota_us")); q != "20000" {
			t.Errorf("Throttle 20 %%: cpu.cfs_quota_us = %s, want 20000", q)
		}
	} else if m := readTrim(t, filepath.Join(dir, "cpu.max")); m != "20000 100000" {
		t.Errorf("Throttle 20 %%: cpu.max = %s, want 20000 100000", m)
	}
	// Other work on the machine can only lower the share: the cap is
	// checked; a share far below it is logged (the worker spins, but a
	// busy machine need not give it even 20 %).
	share := cpuShare(t, pid, 2*time.Second)
	t.Logf("Throttle 20 %%: measured share %.3f of one CPU over 2 s", share)
	if share > 0.30 {
		t.Errorf("Throttle at 20 %%: the worker used %.3f of a CPU, want at most 0.30", share)
	}
	if share < 0.10 {
		t.Logf("the worker got less than half its cap: the machine is busy")
	}

	e.run("set", "apppool", "CpuThrottle", "/cpu.limit:50000")
	e.cpuCgroupDir("CpuThrottle", "action=Throttle limit=50000")
	if _, err := os.Stat(filepath.Join(dir, "cpu.cfs_quota_us")); err == nil {
		if q := readTrim(t, filepath.Join(dir, "cpu.cfs_quota_us")); q != "50000" {
			t.Errorf("Throttle 50 %%: cpu.cfs_quota_us = %s, want 50000", q)
		}
	} else if m := readTrim(t, filepath.Join(dir, "cpu.max")); m != "50000 100000" {
		t.Errorf("Throttle 50 %%: cpu.max = %s, want 50000 100000", m)
	}
	// Other work on the machine can only lower the share: check the cap.
	share = cpuShare(t, pid, 2*time.Second)
	t.Logf("Throttle 50 %% (live change): measured share %.3f of one CPU over 2 s", share)
	if share > 0.6 {
		t.Errorf("Throttle at 50 %%: the worker used %.3f of a CPU, want at most 0.6", share)
	}
	if got := e.workers("CpuThrottle"); len(got) != 1 || got[0] != pid {
		t.Errorf("a cpu.* change recycled the worker: %v, was %d", got, pid)
	}

	e.run("set", "apppool", "CpuThrottle", "/cpu.action:ThrottleUnderLoad")
	e.cpuCgroupDir("CpuThrottle", "action=ThrottleUnderLoad limit=50000")
	if _, err := os.Stat(filepath.Join(dir, "cpu.shares")); err == nil {
		if q := readTrim(t, filepath.Join(dir, "cpu.cfs_quota_us")); q != "-1" {
			t.Errorf("ThrottleUnderLoad: cpu.cfs_quota_us = %s, want -1", q)
		}
		if s := readTrim(t, filepath.Join(dir, "cpu.shares")); s != "512" {
			t.Errorf("ThrottleUnderLoad 50 %%: cpu.shares = %s, want 512", s)
		}
	} else {
		if m := readTrim(t, filepath.Join(dir, "cpu.max")); !strings.HasPrefix(m, "max ") {
			t.Errorf("ThrottleUnderLoad: cpu.max = %s, want max", m)
		}
		if w := readTrim(t, filepath.Join(dir, "cpu.weight")); w != "50" {
			t.Errorf("ThrottleUnderLoad 50 %%: cpu.weight = %s, want 50", w)
		}
	}
	share = cpuShare(t, pid, time.Second)
	t.Logf("ThrottleUnderLoad 50 %%: measured share %.3f (no cap; depends on other load)", share)

	e.stopHost()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the pool's cgroup %s is still there after the host stopped: %v", dir, err)
	}
}

// TestCPUKillW3wp: with KillW3wp and a 10 s resetInterval, a worker that
// burns past 5 % of one CPU is stopped, the pool answers 503 AppShutdown
// for the rest of the interval, then serves again with a new worker.
func TestCPUKillW3wp(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("CpuKill", "/kill", "/+environmentVariables.[name='TW_SPIN',value='1']", "/processModel.identityType:LocalSystem",
		"/cpu.limit:5000", "/cpu.action:KillW3wp", "/cpu.resetInterval:00:00:10")
	e.startHost()
	code, body, _ := e.get("/kill/")
	if code != 200 {
		t.Fatalf("GET = %d %s", code, body)
	}
	pid := e.workers("CpuKill")[0]
	ev := e.lcWaitEvent("CpuKill", cpuLimitEvent, 0, 15*time.Second)
	t.Logf("event (seen %v after it was recorded): %s", time.Since(ev.Time).Round(time.Millisecond), ev.Reason)
	if !strings.Contains(ev.Reason, "KillW3wp") {
		t.Errorf("event reason %q does not name the action", ev.Reason)
	}
	// The reason says when the interval ends, to the second (UTC).
	m := regexp.MustCompile(`503 until (\d\d:\d\d:\d\d)`).FindStringSubmatch(ev.Reason)
	if m == nil {
		t.Fatalf("event reason %q does not say until when", ev.Reason)
	}
	hms, err := time.Parse(time.TimeOnly, m[1])
	if err != nil {
		t.Fatal(err)
	}
	y, mo, d := ev.Time.UTC().Date()
	until := time.Date(y, mo, d, hms.Hour(), hms.Minute(), hms.Second(), 0, time.UTC)
	if until.Before(ev.Time.Add(-time.Second)) {
		until = until.AddDate(0, 0, 1) // the interval ends after midnight
	}
	code, body, h := e.get("/kill/")
	if time.Now().Before(until) && (code != 503 || h.Get("X-Poolctl-Reason") != "AppShutdown") {
		t.Fatalf("GET after the limit = %d %q (reason %q), want 503 AppShutdown\n%s", code, body, h.Get("X-Poolctl-Reason"), e.log())
	}
	waitFor(t, 15*time.Second, "the spinning worker stops", func() error {
		if alive(pid) {
			return fmt.Errorf("worker %d still runs", pid)
		}
		return nil
	})
	blocked := 0
	var back time.Time
	var newPID int
	waitFor(t, 20*time.Second, "the pool serves again after the interval", func() error {
		code, body, h := e.get("/kill/")
		switch {
		case code == 200:
			back = time.Now()
			if _, err := fmt.Sscanf(body, "pid=%d", &newPID); err != nil {
				t.Errorf("body %q", body)
			}
			return nil
		case code == 503 && h.Get("X-Poolctl-Reason") == "AppShutdown":
			blocked++
			return errors.New("still 503 AppShutdown")
		default:
			t.Fatalf("GET while blocked = %d %q (reason %q)", code, body, h.Get("X-Poolctl-Reason"))
		}
		return nil
	})
	gap := back.Sub(ev.Time)
	t.Logf("blocked for %v after the event (%d more 503s), then served by worker %d", gap.Round(time.Millisecond), blocked, newPID)
	// Not before the interval's end; how soon after it is the machine's
	// business (the wait above is the guard).
	t.Logf("served again %s after the interval's end %s", back.Sub(until).Round(time.Millisecond), until.Format(time.StampMilli))
	if back.Before(until) {
		t.Errorf("served again at %s; want not before the interval's end %s", back.UTC().Format(time.StampMilli), until.Format(time.StampMilli))
	}
	if newPID == pid || newPID == 0 {
		t.Errorf("served again by worker %d; want a new worker (old %d)", newPID, pid)
	}
	if e.run("list", "apppool", "CpuKill", "/text:state") != "Started\n" {
		t.Errorf("KillW3wp left the pool %q", e.run("list", "apppool", "CpuKill", "/text:state"))
	}
}

// TestCPUNoAction: NoAction records the event once the pool goes over its
// limit and keeps serving with the same worker.
func TestCPUNoAction(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("CpuLog", "/log", "/+environmentVariables.[name='TW_SPIN',value='1']", "/processModel.identityType:LocalSystem",
		"/cpu.limit:5000", "/cpu.resetInterval:00:00:05")
	e.startHost()
	if code, body, _ := e.get("/log/"); code != 200 {
		t.Fatalf("GET = %d %s", code, body)
	}
	pid := e.workers("CpuLog")[0]
	ev := e.lcWaitEvent("CpuLog", cpuLimitEvent, 0, 15*time.Second)
	t.Logf("event: %s", ev.Reason)
	if !strings.Contains(ev.Reason, "NoAction") {
		t.Errorf("event reason %q does not name the action", ev.Reason)
	}
	code, body, _ := e.get("/log/")
	if code != 200 || !strings.Contains(body, fmt.Sprintf("pid=%d ", pid)) {
		t.Errorf("GET after the limit = %d %q; want 200 from worker %d", code, body, pid)
	}
	// Once per interval: count the events recorded before the first one's
	// interval (resetInterval 5 s, from the "since" time its reason names,
	// to the second) ended, however long the checks above took; the worker
	// keeps spinning, so the next interval may add one.
	const interval = 5 * time.Second
	m := regexp.MustCompile(`since (\d\d:\d\d:\d\d)`).FindStringSubmatch(ev.Reason)
	if m == nil {
		t.Fatalf("event reason %q does not say since when", ev.Reason)
	}
	hms, err := time.Parse(time.TimeOnly, m[1])
	if err != nil {
		t.Fatal(err)
	}
	y, mo, d := ev.Time.UTC().Date()
	since := time.Date(y, mo, d, hms.Hour(), hms.Minute(), hms.Second(), 0, time.UTC)
	if since.After(ev.Time) {
		since = since.AddDate(0, 0, -1) // the interval began before midnight
	}
	n := 0
	for _, x := range e.lcEvents("CpuLog") {
		if x.ID == cpuLimitEvent && x.Time.Before(since.Add(interval)) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d CPU limit events within one interval, want 1", n)
	}
}
