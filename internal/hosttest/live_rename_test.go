package hosttest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/poolctl/poolctl/runstate"
)

// TestLiveRenameUnderLoad: `set apppool LvPy /name:LvPyC` under a
// 4-connection load (issue 10: 150 of 308 requests answered 503
// "application pool "PyC" does not exist"). The route moves to the renamed
// pool atomically: no request fails; afterwards the host runs LvPyC
// (Started, serving) and no LvPy, and the tool returned only once the
// host had applied it.
func TestLiveRenameUnderLoad(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	e.raceCheck()
	e.addTestPool("LvPy", "/")
	e.startHost()
	e.lcServe("/", "LvPy")

	l := e.startLoad(e.addr(), 4, constPath("/"))
	l.progress(t, 200, "before the rename")
	e.run("set", "apppool", "LvPy", "/name:LvPyC")
	// The tool has returned: the host runs the renamed pool now.
	ps, err := e.apiPools()
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := ps["LvPyC"]; !ok || p.State != runstate.PoolStarted {
		t.Errorf("right after the rename the host has LvPyC %v (state %s), want Started", ok, p.State)
	}
	l.progress(t, 200, "after the rename")
	// A second rename, back and forth, under the same load.
	e.run("set", "apppool", "LvPyC", "/name:LvPy2")
	l.progress(t, 200, "after the second rename")
	r := l.finish()
	checkNoFailure(t, e, "load across two renames", r)

	ps, err = e.apiPools()
	if err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"LvPy", "LvPyC"} {
		if _, ok := ps[gone]; ok {
			t.Errorf("the host still runs %s after the renames: %+v", gone, ps[gone])
		}
	}
	if p, ok := ps["LvPy2"]; !ok || p.State != runstate.PoolStarted {
		t.Errorf("the host has LvPy2 %v (state %s), want Started", ok, p.State)
	}
	// The new name serves: once the old workers are gone, the new ones say
	// so in their answers.
	waitFor(t, 20*time.Second, "a worker of LvPy2 answers", func() error {
		code, body, _ := e.get("/")
		if code != 200 || !strings.Contains(body, "pool=LvPy2") {
			return fmt.Errorf("GET / = %d %q", code, body)
		}
		return nil
	})
	waitFor(t, 20*time.Second, "the workers of the old names are gone", func() error {
		for _, old := range []string{"LvPy", "LvPyC"} {
			if ws := lcProcs(old, e.host.Process.Pid); len(ws) > 0 {
				return fmt.Errorf("workers of %s still run: %v", old, ws)
			}
		}
		return nil
	})
}
