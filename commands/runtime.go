package commands

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

// hostCall runs f against the host when its socket exists, with a short
// deadline: listings show runtime state when the host is up and the
// store's desired state when it is not. up is false when no host answers.
func hostCall[T any](e *env, f func(context.Context) (T, error)) (out T, up bool, err error) {
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

// poolRuntime returns the host's view of every pool by lower-case name, or
// nil when no host runs.
func poolRuntime(e *env) (map[string]hostapi.PoolStatus, error) {
	pools, up, err := hostCall(e, e.host.Pools)
	if err != nil || !up {
		return nil, err
	}
	m := make(map[string]hostapi.PoolStatus, len(pools))
	for _, p := range pools {
		m[strings.ToLower(p.Name)] = p
	}
	return m, nil
}

// requireHost returns the host-down error when no host answers.
func requireHost[T any](e *env, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.timeout)
	defer cancel()
	return f(ctx)
}
