package apppool

import (
	"io"
	"log/slog"
	"testing"
)

// TestSetWorkerState: every move the worker state machine allows is
// made, every other one is refused and leaves the state as it was (like
// runc's libcontainer state tests).
func TestSetWorkerState(t *testing.T) {
	legal := map[[2]WorkerState]bool{}
	for _, m := range [][2]WorkerState{
		{WorkerStarting, WorkerReady}, {WorkerStarting, WorkerStopping}, {WorkerStarting, WorkerExited},
		{WorkerReady, WorkerSuspended}, {WorkerReady, WorkerHung}, {WorkerReady, WorkerDraining},
		{WorkerReady, WorkerStopping}, {WorkerReady, WorkerOrphaned}, {WorkerReady, WorkerExited},
		{WorkerSuspended, WorkerReady}, {WorkerSuspended, WorkerDraining}, {WorkerSuspended, WorkerStopping},
		{WorkerSuspended, WorkerExited},
		{WorkerHung, WorkerDraining}, {WorkerHung, WorkerStopping}, {WorkerHung, WorkerOrphaned}, {WorkerHung, WorkerExited},
		{WorkerDraining, WorkerStopping}, {WorkerDraining, WorkerOrphaned}, {WorkerDraining, WorkerExited},
		{WorkerStopping, WorkerExited},
		{WorkerOrphaned, WorkerExited},
	} {
		legal[m] = true
	}
	p := &Pool{name: "T", logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for from := WorkerStarting; from <= WorkerExited; from++ {
		for to := WorkerStarting; to <= WorkerExited; to++ {
			w := &Worker{ID: 1, state: from}
			ok := p.setWorkerState(w, to)
			want := legal[[2]WorkerState{from, to}] || from == to
			if ok != want {
				t.Errorf("%s → %s: accepted %v, want %v", from, to, ok, want)
			}
			if wantState := map[bool]WorkerState{true: to, false: from}[want]; w.state != wantState {
				t.Errorf("%s → %s: state %s after the move, want %s", from, to, w.state, wantState)
			}
		}
	}
}

// TestWorkerLifecycleMoves: the paths the pool takes a worker through are
// legal end to end: start, serve, suspend and resume, drain, stop, exit;
// and a hung worker killed or orphaned.
func TestWorkerLifecycleMoves(t *testing.T) {
	p := &Pool{name: "T", logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, path := range [][]WorkerState{
		{WorkerStarting, WorkerReady, WorkerSuspended, WorkerReady, WorkerDraining, WorkerStopping, WorkerExited},
		{WorkerStarting, WorkerReady, WorkerHung, WorkerStopping, WorkerExited},
		{WorkerStarting, WorkerReady, WorkerHung, WorkerOrphaned, WorkerExited},
		{WorkerStarting, WorkerStopping, WorkerExited}, // ready after the pool stopped
		{WorkerStarting, WorkerExited},                 // died during start-up
	} {
		w := &Worker{state: path[0]}
		for _, to := range path[1:] {
			if !p.setWorkerState(w, to) {
				t.Errorf("path %v: %s → %s refused", path, w.state, to)
				break
			}
		}
	}
}
