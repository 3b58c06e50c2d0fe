package front

import (
	"context"
	"net/http"
	"time"

	"github.com/poolctl/poolctl/apppool"
)

// Pool is what serving a request needs of an application pool: its
// dispatch (Acquire, Release, Discard), its refusal mode and its counters.
// The front adapts *apppool.Pool to it; tests give the front a fake one
// (see Pools).
type Pool interface {
	// Name is the pool's name, for logs.
	Name() string
	// Acquire returns a worker for the request, waiting in the pool's
	// queue until ctx ends. Every successful Acquire is followed by
	// Release.
	Acquire(ctx context.Context, req *apppool.Request) (Worker, error)
	// Release returns the worker after the request.
	Release(w Worker, req *apppool.Request)
	// Discard takes a worker that refused a connection out of dispatch
	// and replaces it. Only ever called for a fault of the worker, never
	// because a client went away.
	Discard(w Worker, why string)
	// TCPLevel reports whether refusals are TCP resets instead of 503.
	TCPLevel() bool
	// TakenDown reports whether the host took the worker down (declared
	// it hung and killed it) while it held a request: only then may a
	// request it never answered be sent to another worker.
	TakenDown(w Worker) bool
	// MaxWorkers is how many workers the pool may run: it bounds how
	// many times a request is tried.
	MaxWorkers() int
	// ObserveRequest counts an answered request by status and time taken
	// (poolctl_requests_total, the latency histogram).
	ObserveRequest(status int, took time.Duration)
	// Refused counts a request turned away without a worker.
	Refused(why apppool.Refusal)
}

// Worker is a worker a Pool lent for one request.
type Worker interface {
	// Forward relays the request and its answer; a failure is a
	// *forward.Error that says how far the request got.
	Forward(w http.ResponseWriter, r *http.Request) error
	// PID is the worker's process id, for logs.
	PID() int
}

// Pools is where the front finds a pool by name: FindPool returns nil for
// no such pool. The host gives the runtime's pools (PoolsOf); tests give
// fake ones.
type Pools interface {
	FindPool(name string) Pool
}

// Runtime is what the runtime's pools offer the front: *apppool.Manager.
type Runtime interface {
	Pool(name string) *apppool.Pool
}

// PoolsOf is the runtime's pools as the front's Pools.
func PoolsOf(rt Runtime) Pools { return runtimePools{rt} }

// runtimePools adapts a Runtime to Pools.
type runtimePools struct{ rt Runtime }

func (r runtimePools) FindPool(name string) Pool { return r.findPoolKey(name) }

// findPoolKey is FindPool for a lower-case name (the runtime's lookup
// converts the name it is given to lower case: this one then costs no
// allocation).
func (r runtimePools) findPoolKey(key string) Pool {
	p := r.rt.Pool(key)
	if p == nil {
		return nil
	}
	return appPool{p}
}

// poolsByKey is implemented by Pools that can find a pool by its
// lower-case name, which the routes compute once (appRoute.poolKey).
type poolsByKey interface{ findPoolKey(key string) Pool }

// findPool returns the pool of the application route, or nil.
func (f *Front) findPool(app *appRoute) Pool {
	if f.byKey != nil {
		return f.byKey.findPoolKey(app.poolKey)
	}
	return f.pools.FindPool(app.pool)
}

// appPool adapts *apppool.Pool to Pool.
type appPool struct{ p *apppool.Pool }

// appWorker adapts *apppool.Worker to Worker.
type appWorker struct{ w *apppool.Worker }

func (a appPool) Name() string   { return a.p.Name() }
func (a appPool) TCPLevel() bool { return a.p.TCPLevel() }

func (a appPool) Acquire(ctx context.Context, req *apppool.Request) (Worker, error) {
	w, err := a.p.Acquire(ctx, req)
	if err != nil {
		return nil, err
	}
	return appWorker{w}, nil
}

func (a appPool) Release(w Worker, req *apppool.Request) { a.p.Release(w.(appWorker).w, req) }
func (a appPool) Discard(w Worker, why string)           { a.p.Discard(w.(appWorker).w, why) }
func (a appPool) TakenDown(w Worker) bool                { return a.p.Hung(w.(appWorker).w) }

func (a appPool) ObserveRequest(status int, took time.Duration) {
	a.p.Stats().ObserveRequest(status, took)
}

func (a appPool) Refused(why apppool.Refusal) { a.p.Stats().Refused(why) }

// MaxWorkers is the pool's maxProcesses. It is only asked when a request
// is to be tried again.
func (a appPool) MaxWorkers() int { return max(a.p.Settings().MaxProcesses, 1) }

func (w appWorker) Forward(rw http.ResponseWriter, r *http.Request) error { return w.w.Forward(rw, r) }
func (w appWorker) PID() int                                              { return w.w.PID }
