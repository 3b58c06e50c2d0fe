// Package apppool is the runtime of application pools: for each pool, a
// bounded request queue and a dispatcher that hands requests to the least
// busy ready worker, and one goroutine (the pool's loop, supervisor.go)
// that owns its lifecycle — starting workers on demand or always, stopping
// idle ones, recycling them one at a time with an overlapping replacement,
// and stopping the pool. The loop never waits: launches, readiness checks,
// drains and stops run in goroutines of their own and report back to it.
//
// The dispatcher is a small structure under the pool's mutex, so a request
// costs no goroutine hop; every change of lifecycle state goes through the
// loop, the pool state machine (state.go) and the worker state machine
// (workerstate.go). The decisions of health checks, recycling triggers,
// CPU limits, rapid-fail protection, idle timeouts and launch backoff are
// small policy types with pure methods taking the time (policy_*.go,
// backoff.go).
package apppool
