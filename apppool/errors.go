package apppool

import "errors"

// Errors of the dispatcher; the front turns each into a 503 with a reason
// (IIS's httperr reasons in brackets).
var (
	// ErrQueueFull: the pool's queue holds queueLength requests [QueueFull].
	ErrQueueFull = errors.New("the application pool's queue is full")
	// ErrPoolStopped: an administrator stopped the pool [Disabled].
	ErrPoolStopped = errors.New("the application pool is stopped")
	// ErrPoolDisabled: rapid-fail protection stopped the pool [AppOffline].
	ErrPoolDisabled = errors.New("the application pool was disabled after repeated worker failures")
	// ErrStartFailed: no worker could be started for the request [N/A].
	ErrStartFailed = errors.New("no worker of the application pool could start")
	// ErrNoPool: the application names a pool the host does not run.
	ErrNoPool = errors.New("the application's pool does not exist")
)
