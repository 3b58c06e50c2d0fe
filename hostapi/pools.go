package hostapi

import (
	"context"
	"net/http"
	"net/url"
)

// RecycleResult is the reply to a recycle: the workers replaced and their
// replacements.
type RecycleResult struct {
	Pool       string `json:"pool"`
	OldWorkers []int  `json:"oldWorkers"`
	NewWorkers []int  `json:"newWorkers"`
}

// Recycle asks the host to recycle every worker of the pool and waits until
// the replacements serve.
func (c *Client) Recycle(ctx context.Context, pool string) (RecycleResult, error) {
	var r RecycleResult
	err := c.Do(ctx, http.MethodPost, "/v1/apppools/"+url.PathEscape(pool)+"/recycle", nil, &r)
	return r, err
}

// Ping checks that a host answers on the socket.
func (c *Client) Ping(ctx context.Context) error {
	return c.Do(ctx, http.MethodGet, "/v1/ping", nil, nil)
}

// Pools returns the runtime state of every pool.
func (c *Client) Pools(ctx context.Context) ([]PoolStatus, error) {
	var out []PoolStatus
	return out, c.Do(ctx, http.MethodGet, "/v1/apppools", nil, &out)
}

// StartPool makes the host pick up the store and start the pool.
func (c *Client) StartPool(ctx context.Context, pool string) (PoolStatus, error) {
	var out PoolStatus
	return out, c.Do(ctx, http.MethodPost, "/v1/apppools/"+url.PathEscape(pool)+"/start", nil, &out)
}

// StopPool makes the host pick up the store and stop the pool.
func (c *Client) StopPool(ctx context.Context, pool string) (PoolStatus, error) {
	var out PoolStatus
	return out, c.Do(ctx, http.MethodPost, "/v1/apppools/"+url.PathEscape(pool)+"/stop", nil, &out)
}

// Workers returns every worker process.
func (c *Client) Workers(ctx context.Context) ([]WorkerStatus, error) {
	var out []WorkerStatus
	return out, c.Do(ctx, http.MethodGet, "/v1/workers", nil, &out)
}

// Requests returns every request queued or in flight.
func (c *Client) Requests(ctx context.Context) ([]RequestStatus, error) {
	var out []RequestStatus
	return out, c.Do(ctx, http.MethodGet, "/v1/requests", nil, &out)
}

// Sites returns the runtime state of every site.
func (c *Client) Sites(ctx context.Context) ([]SiteStatus, error) {
	var out []SiteStatus
	return out, c.Do(ctx, http.MethodGet, "/v1/sites", nil, &out)
}

// Query parameters of the read routes, so that a question about one pool
// costs the host that pool alone.
const (
	// QueryName narrows GET /v1/apppools to the pool with that name
	// (case-insensitive); none matching is an empty list.
	QueryName = "name"
	// QueryPool narrows GET /v1/workers and GET /v1/requests to one pool's
	// (case-insensitive).
	QueryPool = "pool"
	// QuerySample "false" leaves out the /proc sampling of each worker
	// (private and virtual memory, CPU time: 0) for callers that show none
	// of them.
	QuerySample = "sample"
	// QueryWorkers "count" makes GET /v1/apppools answer each pool's
	// WorkerCount instead of its list of workers, for callers that show
	// the number alone (list apppool). A host that predates it sends the
	// list, which PoolStatus.WorkerTotal counts the same.
	QueryWorkers = "workers"
	// WorkersCount is QueryWorkers' value.
	WorkersCount = "count"
)

// readPath returns path with the query of a pool filter and sampling.
func readPath(path, key, pool string, sample bool) string {
	q := url.Values{}
	if pool != "" {
		q.Set(key, pool)
	}
	if !sample {
		q.Set(QuerySample, "false")
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// PoolsOf returns the runtime state of the pool with the name, or of every
// pool for "", with the workers' memory and CPU figures only when sample.
func (c *Client) PoolsOf(ctx context.Context, name string, sample bool) ([]PoolStatus, error) {
	var out []PoolStatus
	return out, c.Do(ctx, http.MethodGet, readPath("/v1/apppools", QueryName, name, sample), nil, &out)
}

// PoolCounts returns what PoolsOf returns without sampling, with each
// pool's worker count in place of its workers (PoolStatus.WorkerTotal):
// an answer that stays small with many pools. expect is how many pools
// the caller expects (0 if it does not know), to size the list once.
func (c *Client) PoolCounts(ctx context.Context, name string, expect int) ([]PoolStatus, error) {
	out := make([]PoolStatus, 0, max(expect, 0)) // json.Unmarshal appends to it
	path := readPath("/v1/apppools", QueryName, name, false) + "&" + QueryWorkers + "=" + WorkersCount
	return out, c.Do(ctx, http.MethodGet, path, nil, &out)
}

// WorkersOf returns the worker processes of one pool ("": every pool),
// sampled from /proc when sample.
func (c *Client) WorkersOf(ctx context.Context, pool string, sample bool) ([]WorkerStatus, error) {
	var out []WorkerStatus
	return out, c.Do(ctx, http.MethodGet, readPath("/v1/workers", QueryPool, pool, sample), nil, &out)
}

// RequestsOf returns the requests queued or in flight in one pool ("":
// every pool).
func (c *Client) RequestsOf(ctx context.Context, pool string) ([]RequestStatus, error) {
	var out []RequestStatus
	return out, c.Do(ctx, http.MethodGet, readPath("/v1/requests", QueryPool, pool, true), nil, &out)
}
