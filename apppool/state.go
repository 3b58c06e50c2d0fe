package apppool

import "github.com/poolctl/poolctl/runstate"

// State is a pool's run-time state (runstate.Pool).
type State = runstate.Pool

// Pool states, as the pool's own code names them.
const (
	Stopped  = runstate.PoolStopped
	Starting = runstate.PoolStarting
	Started  = runstate.PoolStarted
	Stopping = runstate.PoolStopping
)

// TransitionError is an illegal move of the pool state machine.
type TransitionError = runstate.PoolMoveError

// canMove reports whether from → to is allowed.
func canMove(from, to State) bool { return from.CanMove(to) }

// WorkerState is the state of one worker process (runstate.Worker).
type WorkerState = runstate.Worker

// Worker states, as the pool's own code names them.
const (
	WorkerStarting  = runstate.WorkerStarting
	WorkerReady     = runstate.WorkerReady
	WorkerSuspended = runstate.WorkerSuspended
	WorkerHung      = runstate.WorkerHung
	WorkerDraining  = runstate.WorkerDraining
	WorkerStopping  = runstate.WorkerStopping
	WorkerOrphaned  = runstate.WorkerOrphaned
	WorkerExited    = runstate.WorkerExited
)
