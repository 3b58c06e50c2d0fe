package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// hostCall runs f against the host when its socket exists, with a short
// deadline: listings show runtime state when the host is up and the
// store's desired state when it is not. up is false when no host answers.
func hostCall[T any](e *env, f func(context.Context) (T, error)) (out T, up bool, err error) {
	// A socket directory someone else planted is refused before the
	// socket is looked at: its owner may hide the socket from us.
	if err := hostapi.CheckSocketPath(e.host.Socket); err != nil {
		return out, false, err
	}
	if _, serr := os.Stat(e.host.Socket); serr != nil {
		return out, false, nil
	}
	ctx, cancel := context.WithTimeout(e.ctx, min(e.timeout, 5*time.Second))
	defer cancel()
	out, err = f(ctx)
	if errors.Is(err, hostapi.ErrHostDown) {
		return out, false, nil
	}
	return out, err == nil, err
}

// reportReconcile asks a running host to reconcile with the store and
// waits, within --timeout, for the host to have applied it (success says
// nothing). A host that is down needs no telling; a host that did not
// finish within the timeout applies the change in the background, which
// the tool says instead of failing; a host that refused (the store did not
// load for it, permission) is a warning that the change waits; what the
// host could not apply while it applied the rest (a binding that cannot
// listen, a missing certificate) is a warning naming it, once: the host
// does not repeat a failure it reported already. None of these changes
// the exit code: the store was saved. A store in etcd is followed by the
// farm's hosts instead: reportFarmApplied waits for them.
func reportReconcile(ctx context.Context, e *env) {
	if e.onFarm() {
		reportFarmApplied(ctx, e) // farm_ack.go: every live host of the farm
		return
	}
	res, err := e.host.ReconcileReport(ctx)
	switch {
	case errors.Is(err, hostapi.ErrHostDown):
	case err != nil && errors.Is(err, context.DeadlineExceeded) && e.ctx.Err() == nil:
		fmt.Fprintf(e.stderr, "saved; the host applies it in the background (it did not finish within --timeout %s; 'poolctl list apppool' shows what runs)\n", e.timeout)
	case err != nil:
		fmt.Fprintf(e.stderr, "warning: the store was saved, but poolctl host did not take it: %v\n", err)
	case len(res.Warnings) == 1:
		fmt.Fprintf(e.stderr, "warning: poolctl host: %s; the rest of the configuration is applied\n", res.Warnings[0])
	case len(res.Warnings) > 1:
		for _, w := range res.Warnings {
			fmt.Fprintf(e.stderr, "warning: poolctl host: %s\n", w)
		}
		fmt.Fprintln(e.stderr, "warning: the rest of the configuration is applied")
	}
}

// poolRuntime returns the host's view of the pool with the name (every
// pool for "", of which the store has expect) by lower-case name, or nil when no host
// runs. The workers are counted, not listed nor sampled from /proc: list
// apppool shows their number alone (PoolStatus.WorkerTotal).
func poolRuntime(e *env, name string, expect int) (map[string]*hostapi.PoolStatus, error) {
	pools, up, err := hostCall(e, func(ctx context.Context) ([]hostapi.PoolStatus, error) {
		if name != "" {
			expect = 1
		}
		return e.host.PoolCounts(ctx, name, expect)
	})
	if err != nil || !up {
		return nil, err
	}
	m := make(map[string]*hostapi.PoolStatus, len(pools))
	for i := range pools {
		m[strings.ToLower(pools[i].Name)] = &pools[i]
	}
	return m, nil
}

// requireHost returns the host-down error when no host answers.
func requireHost[T any](e *env, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	defer cancel()
	return f(ctx)
}

// legacyInactive says why pools do not run in Legacy isolation mode and
// how to bring them back.
const legacyInactive = "pools are inactive: the host runs in Legacy (IIS 5.0) isolation mode; " +
	"'poolctl set config /section:host /isolationMode:WorkerProcess' brings them back with their settings"

// legacyNote tells, under `list apppool` in Legacy isolation mode, why the
// pools are inactive and how to switch back, and flags the applications
// that run inside the host (appIsolation Low) as the host's own user.
func legacyNote(w io.Writer, cfg *store.Config) {
	if !cfg.LegacyIsolation() {
		return
	}
	fmt.Fprintln(w, "NOTE: isolationMode is Legacy (IIS 5.0 isolation): "+legacyInactive+".")
	f := store.AppSchema.Field("appIsolation")
	var low []string
	for _, s := range cfg.Sites {
		for i := range s.Applications {
			v, ok := f.Get(&s.Applications[i])
			if !ok {
				v = f.DefaultValue()
			}
			if v == "Low" {
				low = append(low, store.AppName(s.Name, s.Applications[i].Path))
			}
		}
	}
	if len(low) > 0 {
		fmt.Fprintf(w, "WARNING: appIsolation Low runs inside poolctl host as its own user (root as a service: unsafe, as IIS 5.0's inetinfo): %s\n", strings.Join(low, ", "))
	}
}

// hostAct runs the action f against the host when its socket exists, with
// the --timeout deadline (a stop waits for the pool's requests to finish).
// up is false when no host answers, and then nothing was done.
func hostAct[T any](e *env, f func(context.Context) (T, error)) (out T, up bool, err error) {
	if err := hostapi.CheckSocketPath(e.host.Socket); err != nil {
		return out, false, err
	}
	if _, serr := os.Stat(e.host.Socket); serr != nil {
		return out, false, nil
	}
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	defer cancel()
	out, err = f(ctx)
	if errors.Is(err, hostapi.ErrHostDown) {
		return out, false, nil
	}
	return out, true, err
}
