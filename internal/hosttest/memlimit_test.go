package hosttest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Memory limits at kernel speed: a worker leaking mlLeakMB per request
// against a privateMemory limit of mlLimitKB.
const (
	mlLimitKB = 64 << 10
	mlLeakMB  = 4
)

// mlLaunchHost is launchHost with extra environment for the host.
func (e *hostEnv) mlLaunchHost(env []string, hostFlags ...string) {
	e.t.Helper()
	e.spawnHost(env, hostFlags...)
	waitFor(e.t, 15*time.Second, "site port listening", func() error {
		select {
		case err := <-e.hostDone:
			e.hostDone <- err
			return fmt.Errorf("host exited: %v\n%s", err, e.log())
		default:
		}
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", e.port), time.Second)
		if err != nil {
			return err
		}
		c.Close()
		return nil
	})
}

// mlLeak sends GET /leak?mb=mlLeakMB on one keep-alive connection until a
// worker other than the first answers, and returns how many requests the
// first worker answered after its private memory went over the limit
// (sampled from /proc after each answer), and the two pids.
func (e *hostEnv) mlLeak() (after, first, second int) {
	e.t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.port))
	if err != nil {
		e.t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	over := false
	for n := 0; n < 4*mlLimitKB/(mlLeakMB<<10); n++ {
		_ = c.SetDeadline(time.Now().Add(60 * time.Second))
		if _, err := fmt.Fprintf(c, "GET /leak?mb=%d HTTP/1.1\r\nHost: x\r\n\r\n", mlLeakMB); err != nil {
			e.t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			e.t.Fatalf("request %d failed: %v", n+1, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		pid := pidOf(string(b))
		if resp.StatusCode != 200 || pid == 0 {
			e.t.Fatalf("request %d: %s %q", n+1, resp.Status, b)
		}
		if first == 0 {
			first = pid
		}
		if pid != first {
			return after, first, pid
		}
		if over {
			after++
		}
		if kb, err := privateKB(pid); err == nil && kb > mlLimitKB {
			over = true
		}
	}
	e.t.Fatalf("worker %d was never replaced\n%s", first, tailString(e.log(), 6000))
	return 0, 0, 0
}

// privateKB is RssAnon+VmSwap of a process, from /proc.
func privateKB(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	var kb uint64
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && (k == "RssAnon" || k == "VmSwap") {
			n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			kb += n
		}
	}
	return kb, nil
}

// TestMemoryLimitKernel: with the host's /proc sampling an hour apart, a
// worker crossing its privateMemory limit is replaced at once on the
// kernel's report: event 5117 names it, no request fails, and it answers
// at most one request after the one that crossed (the next one, sent
// while the host reacts). Skipped, with the host's reason, where the host
// cannot write a memory cgroup.
func TestMemoryLimitKernel(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.trAddPool("M", "/processModel.maxProcesses:1", fmt.Sprintf("/recycling.periodicRestart.privateMemory:%d", mlLimitKB))
	e.mlLaunchHost(nil, "--sample-interval", "1h")
	if code, body, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / = %d %q", code, body)
	}
	waitFor(t, 10*time.Second, "the host's memory-limit log line", func() error {
		if strings.Contains(e.log(), "memory limits:") {
			return nil
		}
		return fmt.Errorf("not logged yet")
	})
	if strings.Contains(e.log(), "memory limits: sampled from /proc") {
		t.Skipf("the host has no kernel memory reports here: %s", logLine(e.log(), "memory limits:"))
	}
	after, first, second := e.mlLeak()
	t.Logf("worker %d answered %d requests after crossing its limit; replaced by %d", first, after, second)
	if after > 1 {
		t.Errorf("worker %d answered %d requests after crossing its limit, want at most 1", first, after)
	}
	waitFor(t, 10*time.Second, "event 5117 for the replaced worker", func() error {
		if n := e.trCount("M", trEvPrivateMemory, first); n != 1 {
			return fmt.Errorf("%d events 5117 for pid %d", n, first)
		}
		return nil
	})
}

// TestMemoryLimitFallback: with the kernel path off (POOLCTL_KERNEL_MEMORY
// =off), the host says so and its /proc sampling (every 100ms) replaces
// the leaking worker, without a failed request.
func TestMemoryLimitFallback(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.trAddPool("M", "/processModel.maxProcesses:1", fmt.Sprintf("/recycling.periodicRestart.privateMemory:%d", mlLimitKB))
	e.mlLaunchHost([]string{"POOLCTL_KERNEL_MEMORY=off"}, "--sample-interval", "100ms")
	if code, body, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / = %d %q", code, body)
	}
	after, first, second := e.mlLeak()
	t.Logf("worker %d answered %d requests after crossing its limit; replaced by %d", first, after, second)
	if !strings.Contains(e.log(), "memory limits: sampled from /proc") || !strings.Contains(e.log(), "POOLCTL_KERNEL_MEMORY=off") {
		t.Errorf("the host did not log that memory is sampled: %q", logLine(e.log(), "memory limits:"))
	}
	waitFor(t, 10*time.Second, "event 5117 for the replaced worker", func() error {
		if n := e.trCount("M", trEvPrivateMemory, first); n != 1 {
			return fmt.Errorf("%d events 5117 for pid %d", n, first)
		}
		return nil
	})
}

// logLine returns the first line of log containing s.
func logLine(log, s string) string {
	for line := range strings.SplitSeq(log, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}
