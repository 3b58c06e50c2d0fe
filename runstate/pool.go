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

var poolNames = names{kind: "pool", list: []string{"Stopped", "Starting", "Started", "Stopping", "Inactive"}}

// String returns the appcmd name of the state.
func (s Pool) String() string { return poolNames.of(uint8(s)) }

// MarshalText writes the appcmd name, so JSON carries "Started".
func (s Pool) MarshalText() ([]byte, error) { return poolNames.marshal(uint8(s)) }

// UnmarshalText reads an appcmd name.
func (s *Pool) UnmarshalText(b []byte) error {
	v, err := poolNames.parse(b)
	if err == nil {
		*s = Pool(v)
	}
	return err
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
