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

// Reconcile tells the host the store changed, so it applies the difference.
func (c *Client) Reconcile(ctx context.Context) error {
	return c.Do(ctx, http.MethodPost, "/v1/reconcile", nil, nil)
}

// Ping checks that a host answers on the socket.
func (c *Client) Ping(ctx context.Context) error {
	return c.Do(ctx, http.MethodGet, "/v1/ping", nil, nil)
}
