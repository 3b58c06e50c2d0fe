package hosttest

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/runstate"
)

// TestLiveStopDuringSlowRecycle: while a recycle waits for a replacement
// that is slow to get ready (it waits for a file the test creates; its
// startupTimeLimit is 10 minutes, so only the test ends the wait), the
// pool's loop keeps answering (issue 10: health checks, exits, ticks and
// `stop` waited behind a recycle): `list apppool` and `list wp` answer,
// and `stop apppool` completes, killing the replacement, all before the
// replacement's readiness is released. Progress, not time: the file that
// releases it is created only after the stop has returned.
func TestLiveStopDuringSlowRecycle(t *testing.T) {
	t.Parallel()
	const pool = "LvSlowRecycle"
	e := newHostEnv(t)
	e.raceCheck()
	gate := filepath.Join(e.dir, "ready")
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e.addTestPool(pool, "/", "/processModel.identityType:LocalSystem", "/processModel.startupTimeLimit:00:10:00",
		"/+environmentVariables.[name='TW_WAIT_FILE',value='"+gate+"']")
	e.startHost()
	hostPID := e.host.Process.Pid
	old := e.lcServe("/", pool)

	// From now on a new worker waits for the gate.
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	recycle := e.toolAsync("recycle", "apppool", pool)
	var repl int
	waitFor(t, 10*time.Second, "the replacement launched", func() error {
		for _, p := range lcProcs(pool, hostPID) {
			if p != old {
				repl = p
				return nil
			}
		}
		return fmt.Errorf("processes of %s: %v", pool, lcProcs(pool, hostPID))
	})
	t.Logf("old worker %d, replacement %d waiting for its gate", old, repl)

	list := e.awaitTool(e.toolAsync("list", "apppool", pool, "/text:state"), "list apppool during the recycle", 10*time.Second)
	if list.err != nil || strings.TrimSpace(list.out) != "Started" {
		t.Errorf("list apppool during the recycle: %v %q, want Started", list.err, list.out)
	}
	wp := e.awaitTool(e.toolAsync("list", "wp", "/apppool.name:"+pool, "/text:wp.name"), "list wp during the recycle", 10*time.Second)
	if wp.err != nil || !slices.Contains(strings.Fields(wp.out), fmt.Sprint(old)) {
		t.Errorf("list wp during the recycle: %v %q, want the old worker %d", wp.err, wp.out, old)
	}
	// The old worker still serves while its replacement starts.
	if code, body, _ := e.get("/"); code != 200 || pidOf(body) != old {
		t.Errorf("GET / during the recycle = %d %q, want 200 from the old worker %d", code, body, old)
	}

	stop := e.awaitTool(e.toolAsync("stop", "apppool", pool), "stop apppool during the recycle", 10*time.Second)
	if stop.err != nil {
		t.Errorf("stop apppool during the recycle: %v %s", stop.err, stop.out)
	}
	e.waitPoolState(pool, runstate.PoolStopped, 10*time.Second)
	waitGone(t, repl, "the replacement that never got ready is killed by the stop")
	waitGone(t, old, "the old worker is stopped")
	if _, err := os.Stat(gate); !os.IsNotExist(err) {
		t.Fatalf("the gate exists already (%v): the test proves nothing", err)
	}

	// Only now may a new worker get ready.
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.awaitTool(recycle, "the recycle ends", 10*time.Second)
	t.Logf("the recycle, cut short by the stop: %v %s", r.err, strings.TrimSpace(r.out))
	code, _, hdr := e.get("/")
	if code != 503 || hdr.Get("X-Poolctl-Reason") != "Disabled" {
		t.Errorf("GET / on the stopped pool = %d %q, want 503 Disabled", code, hdr.Get("X-Poolctl-Reason"))
	}
	e.run("start", "apppool", pool)
	e.lcServe("/", pool)
}
