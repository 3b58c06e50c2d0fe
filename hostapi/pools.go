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
