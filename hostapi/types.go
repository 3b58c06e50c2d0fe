package hostapi

import (
	"time"

	"github.com/poolctl/poolctl/runstate"
)

// PoolStatus is a pool's runtime state as the host reports it.
type PoolStatus struct {
	Name     string         `json:"name"`
	State    runstate.Pool  `json:"state"`            // Started, Starting, Stopping, Stopped, Inactive
	Reason   string         `json:"reason,omitempty"` // why it is stopped
	Disabled bool           `json:"disabled"`         // stopped by rapid-fail protection
	Queue    int            `json:"queue"`            // requests waiting for a worker
	Served   uint64         `json:"served"`           // requests served since the host started
	Workers  []WorkerStatus `json:"workers"`
	// WorkerCount is how many workers the pool has when the caller asked
	// for the count alone (QueryWorkers): Workers is then empty.
	WorkerCount int `json:"workerCount,omitempty"`
}

// WorkerTotal is the number of the pool's workers, from either answer
// (the list of workers, or the count alone).
func (s PoolStatus) WorkerTotal() int { return max(len(s.Workers), s.WorkerCount) }

// PoolCount is a pool's entry in the answer to GET /v1/apppools with
// QueryWorkers=count: PoolStatus without the list of workers, its zero
// values left out, so that the answer stays small at many pools. It reads
// into a PoolStatus (WorkerCount set, Workers nil).
type PoolCount struct {
	Name        string        `json:"name"`
	State       runstate.Pool `json:"state"`
	Reason      string        `json:"reason,omitempty"`
	Disabled    bool          `json:"disabled,omitempty"`
	Queue       int           `json:"queue,omitempty"`
	Served      uint64        `json:"served,omitempty"`
	WorkerCount int           `json:"workerCount"`
}

// WorkerStatus is one worker process.
type WorkerStatus struct {
	PID       int             `json:"pid"`
	ID        int             `json:"id"` // POOLCTL_WORKER_ID
	Pool      string          `json:"pool"`
	State     runstate.Worker `json:"state"` // Ready, Suspended, Draining, Stopping ...
	Addr      string          `json:"addr"`
	Identity  string          `json:"identity"`
	Started   time.Time       `json:"started"`
	Requests  uint64          `json:"requests"` // served so far
	InFlight  int             `json:"inFlight"`
	PrivateKB uint64          `json:"privateKB"`
	VirtualKB uint64          `json:"virtualKB"`
	// CPUSeconds is the worker's user plus system CPU time so far.
	CPUSeconds float64 `json:"cpuSeconds"`
}

// RequestStatus is one request queued or in flight.
type RequestStatus struct {
	ID        uint64 `json:"id"`
	Method    string `json:"method"`
	URL       string `json:"url"`
	Client    string `json:"client"`
	Site      string `json:"site"`
	Pool      string `json:"pool"`
	WorkerPID int    `json:"workerPid"` // 0 while queued
	ElapsedMS int64  `json:"elapsedMs"`
}

// SiteStatus is a site's runtime state.
type SiteStatus struct {
	Name      string        `json:"name"`
	State     runstate.Site `json:"state"`
	Listening []string      `json:"listening"` // addresses it listens on
	Error     string        `json:"error,omitempty"`
}
