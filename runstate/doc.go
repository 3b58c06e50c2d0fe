// Package runstate holds the typed run-time states of poolctl's objects —
// pools, workers and sites — and the state machines that say which moves
// between them are legal. It is a leaf package: apppool, hostapi, host and
// the tool share it, so a state is compared as a value, never as a string,
// and travels through the control API under its appcmd name.
package runstate
