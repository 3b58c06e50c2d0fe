package host

import (
	"net/http"
	"strings"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/hostapi"
)

// poolFilter is what a read route's query asks for: one pool (by name,
// case-insensitive; "" for every pool) and whether to sample each worker
// from /proc. A one-pool question costs that pool alone.
type poolFilter struct {
	name   string
	sample bool
	count  bool // each pool's worker count, not its workers (hostapi.QueryWorkers)
}

// readFilter reads the filter from the query: key names the pool
// (hostapi.QueryName or hostapi.QueryPool), hostapi.QuerySample=false
// turns sampling off.
func readFilter(r *http.Request, key string) poolFilter {
	q := r.URL.Query()
	return poolFilter{name: q.Get(key), sample: q.Get(hostapi.QuerySample) != "false",
		count: q.Get(hostapi.QueryWorkers) == hostapi.WorkersCount}
}

// pools keeps the pools the filter names.
func (f poolFilter) pools(all []*apppool.Pool) []*apppool.Pool {
	if f.name == "" {
		return all
	}
	for _, p := range all {
		if strings.EqualFold(p.Name(), f.name) {
			return []*apppool.Pool{p}
		}
	}
	return nil
}

// status returns the pool's status, sampled when the filter asks.
func (f poolFilter) status(p *apppool.Pool) hostapi.PoolStatus {
	if f.sample {
		return p.Status()
	}
	return p.StatusUnsampled()
}

// shape gives a pool's answer the form the filter asks for: the count of
// its workers in place of the list when count.
func (f poolFilter) shape(st hostapi.PoolStatus) hostapi.PoolStatus {
	if f.count {
		st.WorkerCount, st.Workers = len(st.Workers), nil
	}
	return st
}

// poolStatuses is the runtime state of the store's pools the filter names;
// in Legacy mode each says Inactive and why (as Manager.PoolStatuses).
func (h *Host) poolStatuses(f poolFilter) []hostapi.PoolStatus {
	legacy := h.manager.Legacy()
	out := []hostapi.PoolStatus{}
	for _, p := range f.pools(h.manager.Pools()) {
		st := f.status(p)
		if legacy {
			st.State, st.Reason = apppool.InactiveState, apppool.InactiveReason
		}
		out = append(out, f.shape(st))
	}
	return out
}

// answer is the reply of GET /v1/apppools for the pools' statuses sts:
// each pool's count alone (hostapi.PoolCount) when the filter asks for
// counts, else the statuses.
func (f poolFilter) answer(sts []hostapi.PoolStatus) any {
	if !f.count {
		return sts
	}
	out := make([]hostapi.PoolCount, len(sts))
	for i, st := range sts {
		out[i] = hostapi.PoolCount{Name: st.Name, State: st.State, Reason: st.Reason, Disabled: st.Disabled,
			Queue: st.Queue, Served: st.Served, WorkerCount: max(len(st.Workers), st.WorkerCount)}
	}
	return out
}
