package runstate

import "fmt"

// Pool is an application pool's run-time state, with appcmd's names.
type Pool uint8

// Pool states. Inactive is every pool of the store while the host runs in
// Legacy (IIS 5.0) isolation mode: kept, with its settings, not running.
const (
	PoolStopped Pool = iota
	PoolStarting
	PoolStarted
	PoolStopping
	PoolInactive
)

var poolNames = [...]string{"Stopped", "Starting", "Started", "Stopping", "Inactive"}

// String returns the appcmd name of the state.
func (s Pool) String() string {
	if int(s) < len(poolNames) {
		return poolNames[s]
	}
	return fmt.Sprintf("Pool(%d)", uint8(s))
}

// MarshalText writes the appcmd name, so JSON carries "Started".
func (s Pool) MarshalText() ([]byte, error) {
	if int(s) >= len(poolNames) {
		return nil, fmt.Errorf("runstate: no pool state %d", uint8(s))
	}
	return []byte(poolNames[s]), nil
}

// UnmarshalText reads an appcmd name.
func (s *Pool) UnmarshalText(b []byte) error {
	for i, n := range poolNames {
		if n == string(b) {
			*s = Pool(i)
			return nil
		}
	}
	return fmt.Errorf("runstate: %q is not a pool state (want one of %v)", b, poolNames)
}

// poolMoves lists the moves the pool state machine allows. Inactive is
// set and left by the isolation mode, not by a move.
var poolMoves = map[Pool][]Pool{
	PoolStopped:  {PoolStarting},
	PoolStarting: {PoolStarted, PoolStopping, PoolStopped},
	PoolStarted:  {PoolStopping},
	PoolStopping: {PoolStopped},
}

// CanMove reports whether the pool state machine allows from → to.
func (s Pool) CanMove(to Pool) bool { return allowed(poolMoves[s], to) }

// PoolMoveError is an illegal move of the pool state machine.
type PoolMoveError struct {
	Pool     string
	From, To Pool
}

func (e *PoolMoveError) Error() string {
	return fmt.Sprintf("apppool %q cannot go from %s to %s", e.Pool, e.From, e.To)
}

func allowed[T comparable](moves []T, to T) bool {
	for _, m := range moves {
		if m == to {
			return true
		}
	}
	return false
}
