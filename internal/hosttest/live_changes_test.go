package hosttest

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestLiveQueueLength: queueLength changed under a 4-connection load on a
// pool of one worker taking one request at a time (so three requests
// queue at any moment) applies at once, with no recycle (one worker pid
// answers throughout) and no failed request; the new limit then holds: with
// the worker held, 14 requests get 1 in flight + 10 queued (queueLength
// 10) and exactly 3 QueueFull refusals, and the 11 others finish 200 once
// it is released.
func TestLiveQueueLength(t *testing.T) {
	t.Parallel()
	heavy(t)
	const pool = "LvQueue"
	e := newHostEnv(t)
	e.raceCheck()
	e.addTestPool(pool, "/", "/queueLength:1000", "/processModel.maxProcesses:1", "/processModel.maxConcurrentRequests:1")
	e.startHost()
	pid := e.lcServe("/", pool)

	l := e.startLoad(e.addr(), 4, constPath("/"))
	l.progress(t, 200, "before the change")
	for _, q := range []int{20, 10} {
		e.run("set", "apppool", pool, "/queueLength:"+strconv.Itoa(q))
		l.progress(t, 200, fmt.Sprintf("after queueLength %d", q))
	}
	r := l.finish()
	checkNoFailure(t, e, "load across queueLength 1000 → 20 → 10", r)
	if len(r.PIDs) != 1 || r.PIDs[0] != pid {
		t.Errorf("workers that answered: %v, want only %d (a queueLength change recycles nothing)", r.PIDs, pid)
	}

	release := e.hold(pid)
	const n, refused = 14, 3 // one in flight, ten queued
	answers := make(chan lcResult, n)
	for range n {
		ch := e.lcAsync("/")
		go func() { answers <- <-ch }()
	}
	// While the worker is held, three answers come, all refusals, and
	// the pool holds the other eleven: one in flight and ten queued.
	var full int
	for range refused {
		r := e.lcAwait(answers, "a refusal while the worker is held", 10*time.Second)
		if r.code == 503 && r.hdr.Get("X-Poolctl-Reason") == "QueueFull" {
			full++
		} else {
			t.Errorf("while the worker is held: %d %q %v, want 503 QueueFull", r.code, r.body, r.err)
		}
	}
	waitFor(t, 10*time.Second, "1 in flight and 10 queued", func() error {
		out := e.run("list", "request", "/apppool.name:"+pool, "/text:wp.name")
		f := strings.Fields(out)
		if queued := strings.Count(out, "queued"); len(f) != n-refused || queued != n-refused-1 {
			return fmt.Errorf("list request: %q", out)
		}
		return nil
	})
	release()
	ok := 0
	for range n - refused {
		r := e.lcAwait(answers, "a queued request after the release", 10*time.Second)
		if r.code == 200 && r.pid() == pid {
			ok++
		} else {
			t.Errorf("after the release: %d %q %v, want 200 from %d", r.code, r.body, r.err, pid)
		}
	}
	if full != refused || ok != n-refused {
		t.Errorf("%d QueueFull and %d × 200, want %d and %d (queueLength 10, one in flight)", full, ok, refused, n-refused)
	}
}

// TestLiveAppMove: moving an application to another pool under a
// 4-connection load, and back: no request fails, and as soon as the tool
// returns, the application's requests go to the pool it names.
func TestLiveAppMove(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	e.raceCheck()
	e.addTestPool("LvFrom", "/m")
	e.addTestPool("LvTo", "/other")
	e.startHost()
	e.lcServe("/m/", "LvFrom")
	e.lcServe("/other/", "LvTo")

	l := e.startLoad(e.addr(), 4, constPath("/m/"))
	l.progress(t, 200, "before the move")
	for _, to := range []string{"LvTo", "LvFrom", "LvTo"} {
		e.run("set", "app", "Default Web Site/m", "/applicationPool:"+to)
		if code, body, _ := e.get("/m/"); code != 200 || !strings.Contains(body, "pool="+to+"\n") {
			t.Errorf("GET /m/ right after the move to %s: %d %q", to, code, body)
		}
		l.progress(t, 200, "after the move to "+to)
	}
	checkNoFailure(t, e, "load across three app moves", l.finish())
}

// TestLiveRemovePoolInFlight: a pool removed (`delete apppool
// /reassignTo:`) while requests are in flight on its worker (held with
// SIGSTOP): the tool returns and the application is served by the pool it
// was reassigned to while those requests are still held; released, they
// finish 200 from the removed pool's worker, which then goes.
func TestLiveRemovePoolInFlight(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.raceCheck()
	e.addTestPool("LvGone", "/g", "/processModel.shutdownTimeLimit:00:10:00")
	e.addTestPool("LvStay", "/s")
	e.startHost()
	old := e.lcServe("/g/", "LvGone")
	e.lcServe("/s/", "LvStay")

	release := e.hold(old)
	const n = 3
	var inflight []<-chan lcResult
	for range n {
		inflight = append(inflight, e.lcAsync("/g/"))
	}
	waitFor(t, 10*time.Second, "3 requests in flight on the held worker", func() error {
		out := e.run("list", "request", "/apppool.name:LvGone", "/text:wp.name")
		if got := strings.Count(out, strconv.Itoa(old)); got != n {
			return fmt.Errorf("list request: %q", out)
		}
		return nil
	})

	del := e.awaitTool(e.toolAsync("delete", "apppool", "LvGone", "/reassignTo:LvStay"), "delete apppool with requests in flight", 10*time.Second)
	if del.err != nil {
		t.Fatalf("delete apppool: %v %s", del.err, del.out)
	}
	if code, body, _ := e.get("/g/"); code != 200 || !strings.Contains(body, "pool=LvStay\n") {
		t.Errorf("GET /g/ after the delete: %d %q, want 200 from LvStay", code, body)
	}
	for i, ch := range inflight {
		select {
		case r := <-ch:
			t.Fatalf("request %d in flight on the held worker answered before the release: %d %q %v", i, r.code, r.body, r.err)
		default:
		}
	}
	release()
	for i, ch := range inflight {
		r := e.lcAwait(ch, "a request in flight on the removed pool", 10*time.Second)
		if r.code != 200 || r.pid() != old {
			t.Errorf("request %d in flight on the removed pool: %d %q %v, want 200 from %d", i, r.code, r.body, r.err, old)
		}
	}
	waitGone(t, old, "the removed pool's worker stops once its requests are done")
	if ps, err := e.apiPools(); err != nil {
		t.Error(err)
	} else if _, ok := ps["LvGone"]; ok {
		t.Errorf("the host still has LvGone: %+v", ps["LvGone"])
	}
}

// TestLiveBindingAddRemove: a binding added to the site serves as soon as
// the tool returns and, removed, stops accepting; meanwhile a
// 4-connection load on the site's other binding sees no failure. Twice.
func TestLiveBindingAddRemove(t *testing.T) {
	t.Parallel()
	heavy(t)
	e := newHostEnv(t)
	e.raceCheck()
	e.addTestPool("LvBind", "/")
	e.startHost()
	e.lcServe("/", "LvBind")

	l := e.startLoad(e.addr(), 4, constPath("/"))
	l.progress(t, 200, "before the change")
	for range 2 {
		addr2 := fmt.Sprintf("127.0.0.1:%d", freePort(t))
		sel := "[protocol='http',bindingInformation='" + addr2 + ":']"
		e.run("set", "site", "Default Web Site", "/+bindings."+sel)
		if code, body, err := ctlGet("http://" + addr2 + "/"); err != nil || code != 200 || !strings.Contains(body, "pool=LvBind\n") {
			t.Errorf("the added binding %s right after the tool returned: %d %q %v", addr2, code, body, err)
		}
		l.progress(t, 200, "after adding "+addr2)
		e.run("set", "site", "Default Web Site", "/-bindings."+sel)
		ctlRefuses(t, 10*time.Second, addr2)
		l.progress(t, 200, "after removing "+addr2)
	}
	checkNoFailure(t, e, "load on the binding that stays", l.finish())
}
