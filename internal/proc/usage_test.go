package proc

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// statTail is a /proc/<pid>/stat line after the command name: state S, ppid
// 1, pgrp 4242, utime 250, stime 50, 7 threads, starttime 123456.
const statTail = " S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 123456 1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n"

func TestParseStat(t *testing.T) {
	t.Parallel()
	for _, comm := range []string{"(sleeper)", "(a b)", "(x) S 9 9 (y)", "())", "((()"} {
		st, err := parseStat("4242 " + comm + statTail)
		if err != nil {
			t.Errorf("comm %s: %v", comm, err)
			continue
		}
		want := stat{state: 'S', ppid: 1, pgrp: 4242, utime: 250, stime: 50, threads: 7, starttime: 123456}
		if st != want {
			t.Errorf("comm %s: parsed %+v, want %+v", comm, st, want)
		}
	}
	for _, bad := range []string{
		"4242 sleeper S 1 4242",
		"4242 (sleeper) S 1 4242 4242",
		"4242 (sleeper) S x" + strings.Repeat(" 1", 30),
		"4242 (sleeper) SS" + strings.Repeat(" 1", 30),
	} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) succeeded", bad)
		}
	}
	if _, err := parseStat(""); !errors.Is(err, errVanished) {
		t.Errorf("parseStat of an empty file = %v, want errVanished", err)
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	const live = "Name:\tsleeper\nState:\tS (sleeping)\nVmPeak:\t  9000 kB\nVmSize:\t  8000 kB\nRssAnon:\t  3000 kB\nRssFile:\t  500 kB\nRssShmem:\t  100 kB\nVmSwap:\t  20 kB\nThreads:\t5\n"
	m, err := parseStatus(live)
	if want := (statusMem{rssAnonKB: 3000, swapKB: 20, vmSizeKB: 8000}); err != nil || m != want {
		t.Errorf("parseStatus = %+v, %v; want %+v", m, err, want)
	}
	const zombie = "Name:\tsleeper\nState:\tZ (zombie)\nThreads:\t1\n"
	if m, err := parseStatus(zombie); err != nil || m != (statusMem{}) {
		t.Errorf("parseStatus of a zombie = %+v, %v", m, err)
	}
	for _, bad := range []string{"VmSize:\t8000 MB\n", "RssAnon:\tlots kB\n"} {
		if _, err := parseStatus(bad); err == nil {
			t.Errorf("parseStatus(%q) succeeded", bad)
		}
	}
}

func TestTicksToDuration(t *testing.T) {
	t.Parallel()
	if got := ticksToDuration(250); got != 2500*time.Millisecond {
		t.Errorf("ticksToDuration(250) = %v", got)
	}
}

func TestSampleSelf(t *testing.T) {
	t.Parallel()
	u, err := Sample(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.Threads < 1 || u.VirtualKB == 0 || u.PrivateKB == 0 || u.VirtualKB < u.PrivateKB {
		t.Errorf("Sample(self) = %+v", u)
	}
}

func TestSampleMissing(t *testing.T) {
	t.Parallel()
	const noSuchPid = 1 << 30 // above any pid_max
	if _, err := Sample(noSuchPid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Sample of a missing process = %v, want fs.ErrNotExist", err)
	}
	if _, err := GroupUsage(noSuchPid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("GroupUsage of a missing group = %v, want fs.ErrNotExist", err)
	}
}

func TestSampleLeak(t *testing.T) {
	t.Parallel()
	const leakMB = 50
	p, _ := startSleeper(t, "-leak-mb", strconv.Itoa(leakMB))
	u, err := Sample(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if u.PrivateKB < leakMB*1024 || u.VirtualKB < u.PrivateKB || u.Threads < 1 {
		t.Errorf("Sample = %+v, want PrivateKB >= %d and VirtualKB >= PrivateKB", u, leakMB*1024)
	}
}

func TestGroupUsage(t *testing.T) {
	t.Parallel()
	const leakMB = 40
	p, out := startSleeper(t, "-child", "-child-leak-mb", strconv.Itoa(leakMB))
	gpid, _ := strconv.Atoi(out.waitFor(t, childRE, 10*time.Second)[1])
	leader, err := Sample(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	child, err := Sample(gpid)
	if err != nil {
		t.Fatal(err)
	}
	group, err := GroupUsage(p.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if leader.PrivateKB >= leakMB*1024 {
		t.Fatalf("the worker itself uses %d KB; the test needs it below %d", leader.PrivateKB, leakMB*1024)
	}
	if group.PrivateKB < leakMB*1024 || group.PrivateKB <= leader.PrivateKB {
		t.Errorf("GroupUsage = %+v does not include the grandchild's %d MB (worker alone: %+v)", group, leakMB, leader)
	}
	if group.Threads < leader.Threads+child.Threads || group.VirtualKB < leader.VirtualKB+child.VirtualKB {
		t.Errorf("GroupUsage = %+v, less than worker %+v plus grandchild %+v", group, leader, child)
	}
}

// TestGroupUsageOf: summing over a given list of pids (a cgroup's) counts
// only those in the process group, like GroupUsage, without scanning /proc;
// pids that are gone are skipped, and a list without a member is
// fs.ErrNotExist.
func TestGroupUsageOf(t *testing.T) {
	t.Parallel()
	const leakMB = 40
	p, out := startSleeper(t, "-child", "-child-leak-mb", strconv.Itoa(leakMB))
	gpid, _ := strconv.Atoi(out.waitFor(t, childRE, 10*time.Second)[1])
	other, _ := startSleeper(t)
	got, err := GroupUsageOf(p.Pid, []int{p.Pid, gpid, other.Pid, 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	if got.PrivateKB < leakMB*1024 {
		t.Errorf("GroupUsageOf = %+v does not include the grandchild's %d MB", got, leakMB)
	}
	alone, err := GroupUsageOf(p.Pid, []int{p.Pid})
	if err != nil || alone.PrivateKB >= got.PrivateKB {
		t.Errorf("GroupUsageOf(leader only) = %+v, %v", alone, err)
	}
	if _, err := GroupUsageOf(p.Pid, []int{other.Pid}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("GroupUsageOf without a member = %v, want fs.ErrNotExist", err)
	}
}
