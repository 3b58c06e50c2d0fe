package hostapi

import (
	"context"
	"net/http"
	"time"
)

// ReconcileResult is the reply to a reconcile: the host applied the store,
// except for what Warnings lists (a binding that cannot listen, a
// certificate that does not load, a pool that does not start). Each
// failure is listed by the first reconcile that meets it, and not again
// while it stays the same.
type ReconcileResult struct {
	Warnings []string `json:"warnings,omitempty"`
	// Applied is the store version (store.VersionOf) the host runs now:
	// that of an apply that started loading after the request came.
	Applied string `json:"applied,omitempty"`
	// Pending says another apply is queued behind it (a trigger came
	// while it ran).
	Pending bool `json:"pending,omitempty"`
}

// HostStatus is what the host's reconcile pipeline applied, and since when
// the host runs.
type HostStatus struct {
	// Applied is the store version (store.VersionOf) of the last apply;
	// "" before the first one ends.
	Applied string `json:"applied"`
	// Generation counts the applies since the host started (0 before the
	// first one ends).
	Generation uint64 `json:"generation"`
	// Pending says an apply runs or waits: true from start until the
	// first apply ends, and whenever a trigger has not been served yet.
	Pending bool `json:"pending"`
	// Started is when the host started.
	Started time.Time `json:"started"`
	// Pools is how many of the store's pools the host runs (while the
	// host starts, and Pending is true, the ones it has created so far).
	Pools int `json:"pools"`
}

// Reconcile tells the host the store changed, so it applies the difference.
// What the host could not apply is not an error: see ReconcileReport.
func (c *Client) Reconcile(ctx context.Context) error {
	_, err := c.ReconcileReport(ctx)
	return err
}

// ReconcileReport is Reconcile returning the host's report: the version it
// applied and what it could not apply. When ctx ends first, the error is
// ctx's (wrapped): the host still applies the change in the background.
func (c *Client) ReconcileReport(ctx context.Context) (ReconcileResult, error) {
	var r ReconcileResult
	err := c.Do(ctx, http.MethodPost, "/v1/reconcile", nil, &r)
	return r, err
}

// Status returns what the host's reconcile pipeline applied.
func (c *Client) Status(ctx context.Context) (HostStatus, error) {
	var s HostStatus
	err := c.Do(ctx, http.MethodGet, "/v1/status", nil, &s)
	return s, err
}
