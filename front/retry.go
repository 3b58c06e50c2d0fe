package front

import (
	"errors"
	"net/http"

	"github.com/poolctl/poolctl/forward"
)

// The one retry rule of the front. The forwarder reports how far a failed
// request got (forward.Outcome) and never retries by itself; the serving
// loop (serve.go) asks retryable whether to try the request again, on
// whatever worker the pool gives next:
//
//   - NotSent (nothing reached the worker: the dial failed, or the worker
//     was closed before it was used): always, the request is untouched.
//   - Sent (the request went out, no byte of an answer came back): only
//     when sending it again is harmless (repeatable) AND either the host
//     itself took the worker down while it held the request (a failed
//     health check: the worker was hung and killed), or the request went
//     out on a kept-alive connection (forward.Error.Reused) — the worker
//     may have died or closed it a moment before, the case net/http's
//     client retries — and this request was not sent again for that
//     reason before. Otherwise a worker that died on its own may have
//     been killed by this very request, so it is not sent to the next
//     worker: one bad request cannot kill every worker of the pool in
//     turn (at most two, one of them on a reused connection).
//   - PartlyAnswered (the worker had started to answer): never.
//
// A request is tried at most maxTries times, and never once its client
// has gone (the caller checks that first).

// maxTriesCap bounds the tries of one request whatever the pool's size.
const maxTriesCap = 9

// maxTries is how many times a request may be tried on pool: once per
// worker the pool may run, plus one for a replacement.
func maxTries(pool Pool) int {
	return min(pool.MaxWorkers()+1, maxTriesCap)
}

// retryable reports whether a request that failed with fe may be tried
// again; takenDown says the host took the worker down (hung) while it
// held the request, reusedRetried that the request was already sent again
// once because it failed on a reused connection.
func retryable(fe *forward.Error, r *http.Request, takenDown, reusedRetried bool) bool {
	switch fe.Outcome {
	case forward.NotSent:
		return !errors.Is(fe, forward.ErrBadRequest)
	case forward.Sent:
		return repeatable(r) && (takenDown || fe.Reused && !reusedRetried)
	}
	return false
}

// repeatable reports whether a request may be sent a second time after it
// may have reached a worker: it has no body, and its method is one that
// asks for nothing to change (GET, HEAD, OPTIONS, TRACE) or the client
// marked it idempotent with an Idempotency-Key header, the rule net/http's
// client follows.
func repeatable(r *http.Request) bool {
	if r.ContentLength != 0 || r.Body != nil && r.Body != http.NoBody {
		return false
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, key := r.Header["Idempotency-Key"]
	_, xkey := r.Header["X-Idempotency-Key"]
	return key || xkey
}

// workerRefused reports whether a failure that reached no worker is the
// worker's fault (it refused or did not take the connection), so that it
// is replaced: not when the worker was already closed (stopping, drained),
// and never when the client went away (the caller checks that first).
func workerRefused(fe *forward.Error) bool {
	return fe.Outcome == forward.NotSent && fe.Stage == forward.StageDial && !errors.Is(fe, forward.ErrClosed)
}
