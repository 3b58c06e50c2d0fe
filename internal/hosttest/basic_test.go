package hosttest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestDefaultSiteServesWelcomePage: a fresh store's host serves the default
// site from DefaultAppPool with the built-in worker, started on demand.
func TestDefaultSiteServesWelcomePage(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.startHost()
	if pids := e.workers("DefaultAppPool"); len(pids) != 0 {
		t.Fatalf("workers before the first request: %v, want none (OnDemand)", pids)
	}
	code, body, _ := e.get("/")
	if code != 200 || !strings.Contains(body, "poolctl is serving this site") {
		t.Fatalf("GET / = %d %q, want 200 and the welcome page\n%s", code, body, e.log())
	}
	if pids := e.workers("DefaultAppPool"); len(pids) != 1 {
		t.Fatalf("workers after the first request: %v, want 1", pids)
	}
}

// TestRoutingByPathAndHost: the longest application path wins, and two
// sites on one port are told apart by the Host header.
func TestRoutingByPathAndHost(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("Root", "/")
	e.addTestPool("Mkt", "/mkt")
	e.run("add", "apppool", "/name:Other", "/processModel.command:"+e.testworker, "/processModel.pingPath:/health")
	e.run("add", "site", "/name:Other", fmt.Sprintf("/bindings:http/127.0.0.1:%d:other.example", e.port), "/physicalPath:"+e.dir, "/applicationPool:Other")
	e.startHost()
	for _, c := range []struct{ path, host, pool string }{
		{"/", "", "Root"},
		{"/mkt", "", "Mkt"},
		{"/mkt/page", "", "Mkt"},
		{"/MKT/page", "", "Mkt"},
		{"/mktx", "", "Root"},
		{"/", "other.example", "Other"},
		{"/mkt", "OTHER.example:1234", "Other"},
	} {
		req := mustRequest(t, "GET", e.url(c.path), c.host)
		code, body := do(t, req)
		if code != 200 || !strings.Contains(body, "pool="+c.pool) {
			t.Errorf("GET %s (Host %q) = %d %q, want pool %s", c.path, c.host, code, body, c.pool)
		}
	}
}

// TestStopStart: a stopped pool answers 503 at once with Retry-After, and
// serves again once started; the stop survives a host restart.
func TestStopStart(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	if code, _, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / = %d before stop", code)
	}
	e.run("stop", "apppool", "P")
	start := time.Now()
	code, body, hdr := e.get("/")
	if code != 503 || hdr.Get("Retry-After") == "" || !strings.Contains(body, "stopped") {
		t.Fatalf("stopped pool: %d %q Retry-After=%q, want 503 with Retry-After and a reason", code, body, hdr.Get("Retry-After"))
	}
	// "At once" means without starting a worker for it (checked below);
	// how long the answer took is the machine's business.
	t.Logf("503 for the stopped pool after %s", time.Since(start).Round(time.Millisecond))
	if pids := e.workers("P"); len(pids) != 0 {
		t.Errorf("workers of a stopped pool: %v", pids)
	}
	e.stopHost()
	e.startHost()
	if code, _, _ := e.get("/"); code != 503 {
		t.Fatalf("after a host restart the stopped pool answered %d, want 503 (stop must stick)", code)
	}
	e.run("start", "apppool", "P")
	if code, _, _ := e.get("/"); code != 200 {
		t.Fatalf("GET / = %d after start, want 200", code)
	}
	if _, _, code := e.poolctl("start", "apppool", "P"); code != 5 {
		t.Errorf("start of a started pool exited %d, want 5", code)
	}
}

// TestWorkerDiesMidRequest: the request whose worker died gets 502, the
// next one is served by a new worker.
func TestWorkerDiesMidRequest(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.startHost()
	code, first, _ := e.get("/")
	if code != 200 {
		t.Fatalf("GET / = %d", code)
	}
	if code, _, _ := e.get("/die"); code != 502 {
		t.Fatalf("GET /die = %d, want 502", code)
	}
	code, second, _ := e.get("/")
	if code != 200 || second == first {
		t.Fatalf("after the crash: %d %q (before: %q), want 200 from a new worker", code, second, first)
	}
}

// TestHostKilledNoWorkerSurvives: workers die with the host even when it is
// killed with SIGKILL.
func TestHostKilledNoWorkerSurvives(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/", "/processModel.maxProcesses:2", "/startMode:AlwaysRunning")
	e.startHost()
	var pids []int
	waitFor(t, 20*time.Second, "two workers", func() error {
		pids = e.workers("P")
		if len(pids) != 2 {
			return fmt.Errorf("workers %v", pids)
		}
		return nil
	})
	e.killHost()
	waitFor(t, 5*time.Second, "workers gone", func() error {
		for _, pid := range pids {
			if alive(pid) {
				return fmt.Errorf("worker %d still alive", pid)
			}
		}
		return nil
	})
}
