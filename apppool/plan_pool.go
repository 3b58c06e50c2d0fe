package apppool

import (
	"context"
)

// The manager's calls into a Pool's lifecycle, in one place. The pool
// supervisor's contract (contracts-10.md): Start returns once the pool is
// Started (its workers launch in the background), Reconfigure hands
// settings to the pool's loop and returns (the last settings win), Close
// stops the pool for good.

// managerStart starts p.
func managerStart(ctx context.Context, p *Pool) error {
	return p.Start(ctx)
}

// managerReconfigure hands p new settings without waiting for them to apply.
func managerReconfigure(p *Pool, s Settings) {
	p.Reconfigure(s)
}

// managerClose stops p for good: requests in flight finish (up to its
// shutdownTimeLimit), its workers are reaped, its loop ends.
func managerClose(ctx context.Context, p *Pool) {
	p.Close(ctx)
}
