package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/farm"
)

// takeMaxUnavailable removes /maxUnavailable:N (how many hosts a rolling
// recycle takes at once; default 1) from the parameters.
func takeMaxUnavailable(e *env, a params.Args) (params.Args, int, error) {
	rest, ms := a.Take("maxUnavailable")
	if len(ms) == 0 {
		return rest, 1, nil
	}
	if !e.onFarm() {
		return a, 0, usagef("recycle apppool: /maxUnavailable sets how many hosts of a web farm recycle at once, which needs a store in etcd (--config etcd://…)")
	}
	v := ms[len(ms)-1].Value
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return a, 0, usagef("recycle apppool: /maxUnavailable:%s: expected a number of hosts, 1 or more (e.g. /maxUnavailable:2)", v)
	}
	return rest, n, nil
}

// recycleFarm recycles the pool on every live host of the farm (or the one
// /host names), rolling: at most n hosts at once, the next when a host's
// recycle has returned, which it does when its new workers serve. Each
// host's outcome is printed as it comes; a Gone host is reported and not
// waited for. --timeout bounds each host's recycle.
func recycleFarm(e *env, pool, only string, n int) error {
	f, err := e.farm()
	if err != nil {
		return err
	}
	ctx, cancel := e.withTimeout()
	t, err := f.targets(ctx, only)
	cancel()
	if err != nil {
		return err
	}
	reportGone(e, t.gone)
	if len(t.live) == 0 {
		return noLiveHost(f)
	}
	var failed []string
	var errs []error
	farm.Roll(e.ctx, t.live, n, func(ctx context.Context, h string) error {
		ctx, cancel := context.WithTimeout(ctx, e.timeout)
		defer cancel()
		start := time.Now()
		res, err := f.client(h).Recycle(ctx, pool)
		if err == nil {
			fmt.Fprintf(e.stdout, "recycled on %s (%s, %.1fs)\n", h, plural(len(res.NewWorkers), "worker", "workers"), time.Since(start).Seconds())
		}
		return err
	}, func(h string, err error) {
		switch {
		case err == nil:
		case errors.Is(err, farm.ErrHostGone):
			fmt.Fprintf(e.stderr, "warning: host %s is Gone: not recycled\n", h)
		default:
			failed = append(failed, h)
			errs = append(errs, fmt.Errorf("host %s: %w", h, f.etcdErr(err)))
			fmt.Fprintf(e.stderr, "recycle on %s failed: %v\n", h, f.etcdErr(err))
		}
	})
	if len(failed) > 0 {
		return fmt.Errorf("recycle apppool %q failed on %d of %d hosts (%s): %w", pool, len(failed), len(t.live), strings.Join(failed, ", "), errors.Join(errs...))
	}
	return nil
}

// setPoolRunningFarm is start and stop on a store in etcd: the tool
// persists autoStart in the store, every host of the farm follows, and the
// tool waits, within --timeout, for the live hosts to have applied it.
func setPoolRunningFarm(e *env, id, verb string, run bool) error {
	ctx, cancel := e.withTimeout()
	defer cancel()
	name, legacy, err := persistAutoStart(ctx, e, id, verb, run, " in the store the farm follows")
	if errors.Is(err, ErrAlreadyInState) && !legacy {
		// The store has it already; a host may not (rapid-fail
		// protection stopped the pool there): ask each host.
		return setPoolRunningHosts(e, name, verb, run, err)
	}
	if err != nil {
		return err
	}
	if legacy {
		fmt.Fprintf(e.stdout, "%q %s %s\n", name, pastTense(verb), legacySaved)
		return nil
	}
	ack, err := waitFarmApplied(ctx, e)
	switch {
	case err != nil:
		fmt.Fprintf(e.stdout, "%q %s (saved in the store)\n", name, pastTense(verb))
		fmt.Fprintf(e.stderr, "warning: whether the farm's hosts applied it is unknown: %v\n", err)
	case len(ack.Live) == 0:
		fmt.Fprintf(e.stdout, "%q %s (saved; no host of the farm is running, so it takes effect when they start)\n", name, pastTense(verb))
	case len(ack.Pending) > 0:
		fmt.Fprintf(e.stdout, "%q %s (saved)\n", name, pastTense(verb))
		fmt.Fprintln(e.stderr, backgroundMessage(ack))
	default:
		fmt.Fprintf(e.stdout, "%q successfully %s on %s.\n", name, pastTense(verb), plural(len(ack.Live), "host", "hosts"))
	}
	return nil
}

// setPoolRunningHosts is start or stop of a pool the store already has in
// that state: every live host is asked (at most farmFanOut at once) to
// bring its pool there, each judging on its own runtime state. The hosts
// that did are named; when none had to, the command fails with already,
// the error the store gave.
func setPoolRunningHosts(e *env, pool, verb string, run bool, already error) error {
	answers, err := gatherHosts(e, "", func(ctx context.Context, c *hostapi.Client) (bool, error) {
		call := c.StartPool
		if !run {
			call = c.StopPool
		}
		_, err := call(ctx, pool)
		if errors.Is(err, ErrAlreadyInState) {
			return false, nil
		}
		return err == nil, err
	})
	if errors.Is(err, hostapi.ErrHostDown) {
		return already // no live host: the store's state is all there is
	}
	if err != nil {
		return err
	}
	var did []string
	for _, a := range answers {
		if a.val {
			did = append(did, a.host)
		}
	}
	if len(did) == 0 {
		return already
	}
	fmt.Fprintf(e.stdout, "%q successfully %s on %s (the store had it %s already).\n", pool, pastTense(verb), strings.Join(did, ", "), pastTense(verb))
	return nil
}

// recyclePoolFarmArgs reads recycle's farm parameters (/host,
// /maxUnavailable) and the pool's identifier.
func recyclePoolFarmArgs(e *env, a params.Args) (id, only string, n int, err error) {
	a, only, err = takeHost(e, a, "recycle apppool")
	if err != nil {
		return "", "", 0, err
	}
	a, n, err = takeMaxUnavailable(e, a)
	if err != nil {
		return "", "", 0, err
	}
	id, err = idOnly(a, "recycle", "apppool", "apppool.name")
	return id, only, n, err
}
