package apppool

import "fmt"

// State is a pool's runtime state, with appcmd's names.
type State int

// Pool states.
const (
	Stopped State = iota
	Starting
	Started
	Stopping
)

var stateNames = [...]string{"Stopped", "Starting", "Started", "Stopping"}

// String returns the appcmd name of the state.
func (s State) String() string { return stateNames[s] }

// transitions lists the moves the pool state machine allows.
var transitions = map[State][]State{
	Stopped:  {Starting},
	Starting: {Started, Stopping, Stopped},
	Started:  {Stopping},
	Stopping: {Stopped},
}

// TransitionError is an illegal move of the state machine.
type TransitionError struct {
	Pool     string
	From, To State
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("apppool %q cannot go from %s to %s", e.Pool, e.From, e.To)
}

// canMove reports whether from → to is allowed.
func canMove(from, to State) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// WorkerState is the state of one worker process.
type WorkerState int

// Worker states.
const (
	WorkerStarting  WorkerState = iota // launched, not yet healthy
	WorkerReady                        // serving new requests
	WorkerSuspended                    // idle and SIGSTOPped; resumed by the next request
	WorkerDraining                     // replaced or stopping: finishing what it holds
	WorkerStopping                     // SIGTERM sent
	WorkerExited                       // reaped
)

var workerStateNames = [...]string{"Starting", "Ready", "Suspended", "Draining", "Stopping", "Exited"}

// String names the worker state.
func (s WorkerState) String() string { return workerStateNames[s] }
