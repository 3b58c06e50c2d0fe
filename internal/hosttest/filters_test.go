package hosttest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

// TestControlFilters: the control API answers a one-pool question about
// that pool alone (GET /v1/apppools?name=, /v1/workers?pool=,
// /v1/requests?pool=), and sample=false leaves out the /proc sampling of
// workers (memory and CPU are 0), which `list apppool` needs no column of.
func TestControlFilters(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("FiltA", "/a", "/startMode:AlwaysRunning")
	e.addTestPool("FiltB", "/b", "/startMode:AlwaysRunning")
	e.startHost()
	c := hostapi.NewClient(e.socket)
	ctx, cancel := context.WithTimeout(context.Background(), guard(30*time.Second))
	defer cancel()
	waitFor(t, 20*time.Second, "a worker in each pool", func() error {
		ws, err := c.Workers(ctx)
		if err != nil {
			return err
		}
		by := map[string]int{}
		for _, w := range ws {
			by[w.Pool]++
		}
		if by["FiltA"] == 0 || by["FiltB"] == 0 {
			return fmt.Errorf("workers by pool: %v", by)
		}
		return nil
	})

	pools, err := c.PoolsOf(ctx, "filta", true) // names match case-insensitively
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != 1 || pools[0].Name != "FiltA" {
		t.Fatalf("PoolsOf(filta) = %+v, want FiltA alone", pools)
	}
	if len(pools[0].Workers) == 0 || pools[0].Workers[0].PrivateKB == 0 {
		t.Errorf("sampled FiltA: workers %+v, want memory figures", pools[0].Workers)
	}
	lean, err := c.PoolsOf(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(lean) < 2 {
		t.Fatalf("PoolsOf(all, no sampling) = %d pools, want every pool", len(lean))
	}
	for _, p := range lean {
		for _, w := range p.Workers {
			if w.PrivateKB != 0 || w.VirtualKB != 0 || w.CPUSeconds != 0 {
				t.Errorf("pool %s, worker %d sampled (%+v) though sample=false", p.Name, w.PID, w)
			}
		}
	}
	none, err := c.PoolsOf(ctx, "NoSuchPool", false)
	if err != nil || len(none) != 0 {
		t.Errorf("PoolsOf(NoSuchPool) = %+v, %v; want none", none, err)
	}

	ws, err := c.WorkersOf(ctx, "FiltB", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) == 0 {
		t.Fatal("WorkersOf(FiltB): none")
	}
	for _, w := range ws {
		if w.Pool != "FiltB" {
			t.Errorf("WorkersOf(FiltB) lists a worker of %s", w.Pool)
		}
	}
	rs, err := c.RequestsOf(ctx, "FiltB")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.Pool != "FiltB" {
			t.Errorf("RequestsOf(FiltB) lists a request of %s", r.Pool)
		}
	}
	// `list wp` of one pool and `list apppool` still show what they did.
	if pids := e.workers("FiltA"); len(pids) == 0 {
		t.Errorf("list wp /apppool.name:FiltA lists no worker")
	}
}
