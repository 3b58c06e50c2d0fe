package apppool

import (
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/poolctl/poolctl/internal/proc"
	"github.com/poolctl/poolctl/worker"
)

// How a worker's program is started (launch, worker.go):
//
//   - processModel.command: its arguments are expanded from the worker's
//     environment ($PORT, ${PORT}, $$; proc.ExpandArgs) and it binds
//     127.0.0.1:$PORT itself; the port comes from proc.HostPorts, so no
//     other worker of the host has it, and readiness proves that the
//     listener on it is the worker's own (proc.Process.WaitReady).
//   - processModel.listen unix: no port; the worker (the built-in one
//     too) binds the unix socket whose path is in POOLCTL_LISTEN (listen.go).
//   - the built-in worker (`poolctl worker`): the host binds the port and
//     hands the listening socket over as fd 3 (POOLCTL_LISTEN_FD=3; PORT
//     and POOLCTL_LISTEN still say where it is), and runs its own program
//     through an inherited descriptor (fd 4, /proc/self/fd/4; see
//     proc.SelfFile), so a worker under another uid starts even when the
//     host's binary sits in a directory that uid cannot enter, and always
//     runs the very binary the host runs, even after an upgrade replaced
//     the file on disk.

// leasePort takes a port for a worker: a bound socket for the built-in
// worker, a port verified free for a command that binds it itself.
func leasePort(builtin bool) (*proc.Lease, error) {
	if builtin {
		return proc.HostPorts.Listen()
	}
	return proc.HostPorts.Reserve()
}

// commandSpec fills spec.Path and spec.Args from processModel.command,
// expanded with the worker's environment spec.Env.
func commandSpec(spec *proc.Spec, command []string) error {
	args, err := proc.ExpandArgs(command, spec.Env)
	if err != nil {
		return fmt.Errorf("processModel.command: %w", err)
	}
	spec.Path, spec.Args = args[0], args[1:]
	return nil
}

// builtinLaunch fills spec for the built-in worker: the program, "worker",
// its description of what to serve, and the inherited listening socket. It
// returns the host's copy of the socket, to close once the worker started.
// Without a lease (a unix-socket worker) nothing is inherited: the worker
// binds the path in POOLCTL_LISTEN itself, and nil is returned.
func (p *Pool) builtinLaunch(spec *proc.Spec, s *Settings, lease *proc.Lease) (*os.File, error) {
	var ln *os.File
	spec.Args = []string{"worker"}
	spec.Env = append(spec.Env, worker.SpecEnv+"="+s.SpecJSON())
	if lease != nil {
		var err error
		if ln, err = lease.File(); err != nil {
			return nil, err
		}
		spec.Env = append(spec.Env, worker.ListenFDEnv+"=3")
		spec.ExtraFiles = []*os.File{ln}
	}
	spec.Path = p.launcher.Self
	if isRunningProgram(p.launcher.Self) {
		self, err := proc.SelfFile()
		if err != nil {
			if ln != nil {
				ln.Close()
			}
			return nil, err
		}
		spec.ExtraFiles = append(spec.ExtraFiles, self)
		spec.Path, spec.Arg0 = proc.SelfPath(len(spec.ExtraFiles)-1), p.launcher.Self
	}
	return ln, nil
}

var (
	exeOnce sync.Once
	exePath string
)

// isRunningProgram reports whether path names the program this process
// runs: the built-in worker then runs from proc.SelfFile.
func isRunningProgram(path string) bool {
	exeOnce.Do(func() { exePath, _ = os.Executable() })
	return path != "" && path == exePath
}

// listenAddr is the loopback address of a port.
func listenAddr(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }
