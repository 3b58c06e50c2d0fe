package proc

import (
	"os/exec"
	"runtime"
	"sync"
)

// The parent-death signal (PR_SET_PDEATHSIG) fires when the thread that
// forked the child exits, not when the process does. The Go runtime retires
// the thread of a goroutine that exits while locked to it, so every fork
// happens on one goroutine locked to its thread for the life of the
// process: that thread never exits before the host does, and the children
// die with the host (SIGKILL included) and never earlier. The waits for the
// children happen elsewhere (pidfd.go), so the host holds one thread for
// all its children, not one per child.

// spawnRequest is one fork for the spawner: reply gets cmd.Start's error.
type spawnRequest struct {
	cmd   *exec.Cmd
	reply chan<- error
}

var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

// spawn starts cmd on the spawner's thread, starting the spawner first if
// need be.
func spawn(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go spawnLoop(spawner.reqs)
	})
	reply := make(chan error, 1)
	spawner.reqs <- spawnRequest{cmd: cmd, reply: reply}
	return <-reply
}

// spawnLoop forks on request. It locks its goroutine to its thread and
// never unlocks nor returns (reqs is never closed), so the thread that is
// the parent of every child lives as long as the process.
func spawnLoop(reqs <-chan spawnRequest) {
	runtime.LockOSThread()
	for r := range reqs {
		r.reply <- r.cmd.Start()
	}
}
