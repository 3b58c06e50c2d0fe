package commands

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/etcdstore"
	"github.com/poolctl/poolctl/internal/farm"
	"github.com/poolctl/poolctl/store"
)

// farmFanOut bounds how many hosts the tool asks at once.
const farmFanOut = 16

// farmConn is the tool's handle on the farm of an etcd store: the hosts
// that follow it, reached through etcd (internal/farm).
type farmConn struct {
	b   *etcdstore.Backend
	cli *clientv3.Client
}

// etcdBackend returns the store's etcd backend, or nil for a file store.
func (e *env) etcdBackend() *etcdstore.Backend {
	if e.store == nil {
		return nil
	}
	b, _ := e.store.Backend().(*etcdstore.Backend)
	return b
}

// onFarm reports whether the store is in etcd, so runtime commands go to
// the farm's hosts rather than the local socket.
func (e *env) onFarm() bool { return e.etcdBackend() != nil }

// farm connects to the farm of an etcd store.
func (e *env) farm() (*farmConn, error) {
	b := e.etcdBackend()
	if b == nil {
		return nil, fmt.Errorf("%w: the store %s is not in etcd", ErrUsage, e.store.Path)
	}
	cli, err := b.Client()
	if err != nil {
		return nil, err
	}
	return &farmConn{b: b, cli: cli}, nil
}

// etcdErr gives a failed farm request the sentinel of its cause: etcd not
// answering is the store being unavailable (exit 10), naming the
// endpoints.
func (f *farmConn) etcdErr(err error) error {
	if err == nil || errors.Is(err, store.ErrUnavailable) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%w: etcd at %s did not answer: %w", store.ErrUnavailable, strings.Join(f.b.Endpoints(), ","), err)
	}
	return err
}

// hosts reads every host's record and which are alive.
func (f *farmConn) hosts(ctx context.Context) ([]farm.HostRecord, map[string]bool, error) {
	recs, alive, _, err := farm.ReadHosts(ctx, f.cli, f.b.Key)
	return recs, alive, f.etcdErr(err)
}

// client returns a control-API client of the host named name, through
// etcd.
func (f *farmConn) client(name string) *hostapi.Client {
	return hostapi.NewClientTransport(name, farm.NewTransport(f.cli, f.b.Key, name))
}

// targets are the hosts a runtime command asks: the live ones, or the one
// /host:NAME names. gone lists the hosts whose record remains without a
// live host, to be reported.
type targets struct {
	live []string
	gone []string
}

// farmTargets reads the farm and picks the hosts to ask; only, when not
// "", is the one host /host named (an error when the farm has no such
// host).
func (f *farmConn) targets(ctx context.Context, only string) (targets, error) {
	recs, alive, err := f.hosts(ctx)
	if err != nil {
		return targets{}, err
	}
	var t targets
	known := map[string]bool{}
	for _, r := range recs {
		known[r.Name] = true
		if !alive[r.Name] {
			t.gone = append(t.gone, r.Name)
		}
	}
	for n := range alive {
		known[n] = true
		t.live = append(t.live, n)
	}
	sort.Strings(t.live)
	if only == "" {
		return t, nil
	}
	for n := range known {
		if strings.EqualFold(n, only) {
			only = n
		}
	}
	switch {
	case !known[only]:
		return t, store.NotFound("host", only)
	case !alive[only]:
		return t, fmt.Errorf("%w: host %q is Gone (no live poolctl host holds the name; 'poolctl list host' shows the farm)", hostapi.ErrHostDown, only)
	}
	return targets{live: []string{only}}, nil
}

// takeHost removes /host:NAME from a runtime command's parameters; on a
// store that is not in etcd, it is a usage error.
func takeHost(e *env, a params.Args, cmd string) (params.Args, string, error) {
	rest, hs := a.Take("host")
	if len(hs) == 0 || strings.HasPrefix(hs[len(hs)-1].Value, "$") {
		return a, "", nil // none, or a filter expression on the HOST column
	}
	if !e.onFarm() {
		return a, "", usagef("%s: /host names a host of a web farm, which needs a store in etcd (--config etcd://…); a single host needs no /host", cmd)
	}
	name := hs[len(hs)-1].Value
	if err := farm.ValidateName(name); err != nil {
		return a, "", fmt.Errorf("%w: %s /host: %w", ErrUsage, cmd, err)
	}
	return rest, name, nil
}

// noLiveHost is the error of a runtime command on a farm without a live
// host.
func noLiveHost(f *farmConn) error {
	return fmt.Errorf("%w: no live poolctl host follows %s ('poolctl list host' shows the farm)", hostapi.ErrHostDown, f.b.Location())
}

// reportGone says on stderr which hosts were not asked because they are
// Gone.
func reportGone(e *env, gone []string) {
	if len(gone) == 0 {
		return
	}
	fmt.Fprintf(e.stderr, "warning: %s Gone, not asked (%s; 'poolctl delete host NAME' forgets a host that left for good)\n",
		plural(len(gone), "host is", "hosts are"), strings.Join(gone, ", "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// hostAnswer is one host's answer to a fanned-out call.
type hostAnswer[T any] struct {
	host string
	val  T
	err  error
}

// askHosts calls f on every host, at most farmFanOut at once, within
// --timeout, and returns the answers in the hosts' order.
func askHosts[T any](e *env, f *farmConn, hosts []string, call func(context.Context, *hostapi.Client) (T, error)) []hostAnswer[T] {
	ctx, cancel := e.withTimeout()
	defer cancel()
	out := make([]hostAnswer[T], len(hosts))
	sem := make(chan struct{}, farmFanOut)
	var wg sync.WaitGroup
	for i, h := range hosts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			v, err := call(ctx, f.client(h))
			out[i] = hostAnswer[T]{host: h, val: v, err: err}
		}()
	}
	wg.Wait()
	return out
}

// gatherHosts asks every target host through call and returns the
// answers of those that answered; the others are reported on stderr. It
// fails when none answered.
func gatherHosts[T any](e *env, only string, call func(context.Context, *hostapi.Client) (T, error)) ([]hostAnswer[T], error) {
	f, err := e.farm()
	if err != nil {
		return nil, err
	}
	ctx, cancel := e.withTimeout()
	t, err := f.targets(ctx, only)
	cancel()
	if err != nil {
		return nil, err
	}
	reportGone(e, t.gone)
	if len(t.live) == 0 {
		return nil, noLiveHost(f)
	}
	var ok []hostAnswer[T]
	var failed []error
	for _, a := range askHosts(e, f, t.live, call) {
		if a.err != nil {
			err := fmt.Errorf("host %s: %w", a.host, f.etcdErr(a.err))
			failed = append(failed, err)
			fmt.Fprintf(e.stderr, "warning: %v\n", err)
			continue
		}
		ok = append(ok, a)
	}
	if len(ok) == 0 {
		return nil, fmt.Errorf("no host answered: %w", errors.Join(failed...))
	}
	return ok, nil
}

// onHost is a runtime object (a worker, a request) with the host it runs
// on, as farm listings show it.
type onHost struct {
	host string
	obj  any
}

// hostView returns v with a HOST column first: its rows hold onHost
// objects.
func hostView(v *view) *view {
	props := []prop{{key: "host", aliases: []string{"host.name"}, header: "HOST", get: func(o any) any { return o.(onHost).host }}}
	for _, p := range v.props {
		get, js := p.get, p.json
		p.get = func(o any) any { return get(o.(onHost).obj) }
		if js != nil {
			p.json = func(o any) any { return js(o.(onHost).obj) }
		}
		props = append(props, p)
	}
	return newView(v.kind, props)
}
