package apppool

import "github.com/poolctl/poolctl/runstate"

// setWorkerState moves w to state to through the worker state machine
// (runstate.Worker.CanMove): an illegal move is logged and refused, and
// reported false. Staying in the same state is allowed. Called with p.mu
// held.
func (p *Pool) setWorkerState(w *Worker, to WorkerState) bool {
	if w.state == to {
		return true
	}
	if !w.state.CanMove(to) {
		err := &runstate.WorkerMoveError{Pool: p.name, Worker: w.ID, From: w.state, To: to}
		if p.logger != nil {
			p.logger.Warn("worker state: move refused", "pool", p.name, "pid", w.PID, "err", err)
		}
		return false
	}
	w.state = to
	return true
}
