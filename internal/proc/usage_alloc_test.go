package proc

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSampleNoGarbage: sampling a process from /proc (list wp, the memory
// triggers, CPU accounting without a cgroup) creates no garbage: the files
// are read into a buffer that is reused, and parsed in place. Summing a
// process group costs no allocation per process either, whether its pids
// are given or found by a scan of /proc.
func TestSampleNoGarbage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	self := os.Getpid()
	if _, err := Sample(self); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := Sample(self); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Sample allocates %v times per call, want 0", n)
	}
	pgid := syscall.Getpgrp()
	for _, pids := range [][]int{{self}, {self, self, self, self, self, self, self, self}} {
		if n := testing.AllocsPerRun(100, func() {
			if _, err := GroupUsageOf(pgid, pids); err != nil {
				t.Fatal(err)
			}
		}); n != 0 {
			t.Errorf("GroupUsageOf over %d pids allocates %v times per call, want 0", len(pids), n)
		}
	}
	if n := testing.AllocsPerRun(20, func() {
		if _, err := GroupUsage(pgid); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("GroupUsage (a scan of /proc) allocates %v times per call, want 0", n)
	}
}

// TestParseNoGarbage: the parsers of stat and status lines allocate
// nothing on a well-formed file.
func TestParseNoGarbage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	line := "4242 (a b) " + statTail
	status := "Name:\tsleeper\nVmSize:\t  8000 kB\nRssAnon:\t  3000 kB\nVmSwap:\t  20 kB\n" + strings.Repeat("Other:\t1\n", 40)
	if n := testing.AllocsPerRun(100, func() {
		if _, err := parseStat(line); err != nil {
			t.Fatal(err)
		}
		if _, err := parseStatus(status); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("parseStat and parseStatus allocate %v times, want 0", n)
	}
}

// TestProcessKeepsNoCommand: once a worker has started, the host keeps its
// process, not the command it was started from (environment, arguments,
// attributes: kilobytes per worker for its whole life), when the output
// hub copies its output; and the exit state is still collected.
func TestProcessKeepsNoCommand(t *testing.T) {
	if _, err := theHub(); err != nil {
		t.Skip("no output hub:", err)
	}
	p, _ := startSleeper(t, "-exit-after", "1ms", "-exit-code", "3")
	if p.cmd != nil {
		t.Error("the process keeps its exec.Cmd")
	}
	waitDone(t, p, 10*time.Second)
	if st := p.Exit(); st == nil || st.ExitCode() != 3 {
		t.Errorf("exit state %v, want exit code 3", st)
	}
}

// TestListenersDiagSmallGarbage: a readiness check's look at the port's
// listeners (a sock_diag dump) reuses its receive buffer: hundreds of
// workers starting at once, each polled every few milliseconds, made the
// host's start-up peak at tens of megabytes of 64 KB buffers.
func TestListenersDiagSmallGarbage(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	if _, err := listenersDiag(1); err != nil {
		t.Skip("no sock_diag:", err)
	}
	const calls = 50
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range calls {
		if _, err := listenersDiag(1); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / calls; per > 4<<10 {
		t.Errorf("a look at the listeners allocates %d bytes, want at most 4 KB", per)
	}
}
