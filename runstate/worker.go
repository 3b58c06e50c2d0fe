package runstate

import "fmt"

// Worker is the state of one worker process.
type Worker uint8

// Worker states. A worker starts in WorkerStarting and ends in
// WorkerExited; Worker.CanMove says which moves lie between.
const (
	WorkerStarting  Worker = iota // launched, not yet ready
	WorkerReady                   // taking new requests
	WorkerSuspended               // idle and SIGSTOPped; the next request resumes it
	WorkerHung                    // failed its health checks; being replaced
	WorkerDraining                // replaced or stopping: finishing what it holds
	WorkerStopping                // SIGTERM sent, waiting for the exit
	WorkerOrphaned                // left running for a debugger (orphanWorkerProcess)
	WorkerExited                  // reaped
)

var workerNames = names{kind: "worker", list: []string{"Starting", "Ready", "Suspended", "Hung", "Draining", "Stopping", "Orphaned", "Exited"}}

// String names the worker state.
func (s Worker) String() string { return workerNames.of(uint8(s)) }

// MarshalText writes the state's name.
func (s Worker) MarshalText() ([]byte, error) { return workerNames.marshal(uint8(s)) }

// UnmarshalText reads a state's name.
func (s *Worker) UnmarshalText(b []byte) error {
	v, err := workerNames.parse(b)
	if err == nil {
		*s = Worker(v)
	}
	return err
}

// workerMoves is the worker state machine. Every state may move to
// WorkerExited: a process can die at any moment.
var workerMoves = map[Worker][]Worker{
	WorkerStarting:  {WorkerReady, WorkerStopping, WorkerExited},
	WorkerReady:     {WorkerSuspended, WorkerHung, WorkerDraining, WorkerStopping, WorkerOrphaned, WorkerExited},
	WorkerSuspended: {WorkerReady, WorkerDraining, WorkerStopping, WorkerExited},
	WorkerHung:      {WorkerDraining, WorkerStopping, WorkerOrphaned, WorkerExited},
	WorkerDraining:  {WorkerStopping, WorkerOrphaned, WorkerExited},
	WorkerStopping:  {WorkerExited},
	WorkerOrphaned:  {WorkerExited},
	WorkerExited:    nil,
}

// CanMove reports whether the worker state machine allows s → to.
func (s Worker) CanMove(to Worker) bool { return allowed(workerMoves[s], to) }

// Serving reports whether a worker in this state takes new requests
// (a suspended one is resumed first).
func (s Worker) Serving() bool { return s == WorkerReady || s == WorkerSuspended }

// Alive reports whether the process is still there to be stopped.
func (s Worker) Alive() bool { return s != WorkerExited }

// WorkerMoveError is an illegal move of the worker state machine.
type WorkerMoveError struct {
	Pool     string
	Worker   int
	From, To Worker
}

func (e *WorkerMoveError) Error() string {
	return fmt.Sprintf("apppool %q worker %d cannot go from %s to %s", e.Pool, e.Worker, e.From, e.To)
}
