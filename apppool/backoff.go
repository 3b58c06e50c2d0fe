package apppool

import "time"

// Launch backoff: a started pool that should have workers and cannot
// start them (they exit during start-up, miss startupTimeLimit, or cannot
// be launched) tries again after backoffFirst, doubling up to backoffMax;
// the steps start again once a worker has stayed up for
// backoffResetAfter. Every failure also counts for rapid-fail protection,
// which is what finally disables the pool.
const (
	backoffFirst = 100 * time.Millisecond
	backoffMax   = 10 * time.Second
)

// backoff is the delay before the next launch after failures.
type backoff struct {
	failures int
}

// next counts a failure and returns the delay before the next launch:
// backoffFirst after the first failure, doubling, at most backoffMax.
func (b *backoff) next() time.Duration {
	d := backoffFirst
	for range b.failures {
		d *= 2
		if d >= backoffMax {
			d = backoffMax
			break
		}
	}
	b.failures++
	return d
}

// reset forgets the failures.
func (b *backoff) reset() { b.failures = 0 }
