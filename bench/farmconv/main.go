// Command farmconv measures how fast a web farm converges on a change, for
// bench/farm.sh: it writes a change to a store in etcd (as `poolctl set`
// does, without the tool's own wait) and times from the write's commit to
// the moment the last live host publishes the new store version in
// farm/hosts/ (watched, not polled). It prints p50, p99 and max over the
// changes.
//
// Usage:
//
//	go run ./bench/farmconv -config etcd://127.0.0.1:23790/bench -hosts 3 -changes 100
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/poolctl/poolctl/bench/loopback"
	"github.com/poolctl/poolctl/internal/etcdstore"
	"github.com/poolctl/poolctl/internal/farm"
	"github.com/poolctl/poolctl/store"
)

func main() {
	config := flag.String("config", "", "the store, etcd://127.0.0.1:PORT/PREFIX (loopback only)")
	hosts := flag.Int("hosts", 3, "live hosts to wait for before measuring")
	changes := flag.Int("changes", 100, "changes to time")
	pool := flag.String("pool", store.DefaultPoolName, "the pool whose queueLength each change sets")
	timeout := flag.Duration("timeout", 30*time.Second, "bound of one change's convergence, and of the wait for the hosts")
	flag.Parse()
	if err := run(*config, *pool, *hosts, *changes, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "farmconv:", err)
		os.Exit(1)
	}
}

func run(spec, pool string, hosts, changes int, timeout time.Duration) error {
	loc, err := etcdstore.ParseLocation(spec)
	if err != nil {
		return err
	}
	for _, ep := range loc.Endpoints {
		if err := loopback.Check(ep); err != nil {
			return err
		}
	}
	s := etcdstore.Open(spec, timeout)
	b, ok := s.Backend().(*etcdstore.Backend)
	if !ok {
		return fmt.Errorf("%s: not a store in etcd", spec)
	}
	defer b.Close()
	cli, err := b.Client()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := waitHosts(ctx, s, b, hosts, timeout); err != nil {
		return err
	}
	var lat []time.Duration
	for i := range changes {
		var last *store.Config
		wctx, cancel := context.WithTimeout(ctx, timeout)
		_, err := s.Update(wctx, func(c *store.Config) error {
			p := c.Pool(pool)
			if p == nil {
				return fmt.Errorf("no pool %q in the store", pool)
			}
			n := uint64(1000 + i%2 + 2*(i/2)) // a new value every change
			p.QueueLength = &n
			last = c
			return nil
		})
		if err != nil {
			cancel()
			return fmt.Errorf("change %d: %w", i, err)
		}
		t0 := time.Now()
		ack, err := farm.WaitApplied(wctx, cli, b.Key, farm.Applied{Version: last.StoreVersion()})
		d := time.Since(t0)
		cancel()
		if err != nil {
			return fmt.Errorf("change %d: %w", i, err)
		}
		if len(ack.Pending) > 0 {
			return fmt.Errorf("change %d: hosts %s did not apply it within %s", i, strings.Join(ack.Pending, ","), timeout)
		}
		if len(ack.Live) < hosts {
			return fmt.Errorf("change %d: only %d of %d hosts are alive", i, len(ack.Live), hosts)
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	fmt.Printf("hosts=%d changes=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f\n", hosts, len(lat), q(0.50), q(0.99), q(1))
	return nil
}

// waitHosts waits until hosts hosts are alive and have applied the store
// as it is now.
func waitHosts(ctx context.Context, s *store.Store, b *etcdstore.Backend, hosts int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cli, err := b.Client()
	if err != nil {
		return err
	}
	for {
		data, err := s.Read(ctx)
		if err != nil {
			return err
		}
		ack, err := farm.WaitApplied(ctx, cli, b.Key, farm.Applied{Version: store.VersionOf(data)})
		if err != nil {
			return err
		}
		if len(ack.Live) >= hosts && len(ack.Pending) == 0 {
			return nil
		}
		if ctx.Err() != nil {
			return errors.New("the hosts did not all come up and apply the store in time")
		}
		// Fewer hosts than asked for are alive yet: they are starting.
		// (A benchmark's set-up, so a plain retry; the measurement
		// itself watches.)
		t := time.NewTimer(200 * time.Millisecond)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}
