package apppool

import (
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/proc"
)

// Status returns the pool's runtime state, its workers and queue, each
// worker's memory and CPU time sampled from /proc.
func (p *Pool) Status() hostapi.PoolStatus {
	st := p.StatusUnsampled()
	for i := range st.Workers {
		if u, err := proc.Sample(st.Workers[i].PID); err == nil {
			st.Workers[i].PrivateKB = u.PrivateKB
			st.Workers[i].VirtualKB = u.VirtualKB
			st.Workers[i].CPUSeconds = u.CPU.Seconds()
		}
	}
	return st
}

// StatusUnsampled is Status without reading /proc: the workers' memory and
// CPU figures are 0. For callers that show none of them.
func (p *Pool) StatusUnsampled() hostapi.PoolStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	st := hostapi.PoolStatus{Name: p.name, State: p.state, Reason: p.reason,
		Disabled: p.disabled, Queue: p.waiters.Len(), Served: p.served}
	for _, w := range p.workersLocked() {
		st.Workers = append(st.Workers, p.workerStatusLocked(w))
	}
	return st
}

// workersLocked lists serving and draining workers, each with its state.
// Workers still starting (p.launching) are not listed: `list wp` and the
// host's callers count the workers that took requests. Called with p.mu
// held.
func (p *Pool) workersLocked() []*Worker {
	ws := append([]*Worker{}, p.active...)
	for w := range p.draining {
		ws = append(ws, w)
	}
	return ws
}

func (p *Pool) workerStatusLocked(w *Worker) hostapi.WorkerStatus {
	return hostapi.WorkerStatus{PID: w.PID, ID: w.ID, Pool: p.name, State: w.state, Addr: w.Addr,
		Started: w.Started.UTC(), Requests: w.served, InFlight: w.inflight, Identity: w.identity}
}

// Requests lists the requests queued and in flight in the pool.
func (p *Pool) Requests(now time.Time) []hostapi.RequestStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []hostapi.RequestStatus
	add := func(r *Request, pid int) {
		out = append(out, hostapi.RequestStatus{ID: r.ID, Method: r.Method, URL: r.URL, Client: r.Client, Site: r.Site,
			Pool: p.name, WorkerPID: pid, ElapsedMS: now.Sub(r.Start).Milliseconds()})
	}
	for e := p.waiters.Front(); e != nil; e = e.Next() {
		add(e.Value.(*waiter).req, 0)
	}
	for _, w := range p.workersLocked() {
		for r := range w.reqs {
			add(r, w.PID)
		}
	}
	return out
}
