// Package apppool is the runtime of application pools: for each pool, a
// bounded request queue and a dispatcher that hands requests to the least
// busy ready worker, and one goroutine (the pool's actor) that owns its
// lifecycle — starting workers on demand or always, stopping idle ones,
// recycling them with an overlapping replacement, and stopping the pool.
//
// The dispatcher is a small structure under the pool's mutex, so a request
// costs no goroutine hop; every change of lifecycle state goes through the
// actor's channel and the state machine in state.go.
package apppool
