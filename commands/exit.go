package commands

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// Exit codes. They are part of poolctl's interface: scripts test them, so
// they never change meaning. docs/reference/exit-codes.md lists them.
const (
	ExitOK             = 0 // success
	ExitFailure        = 1 // anything not below: I/O errors, a failure the host reported
	ExitUsage          = 2 // bad command line or invalid value: nothing was changed
	ExitNotFound       = 3 // the object does not exist
	ExitExists         = 4 // an object with that name or key already exists
	ExitAlreadyInState = 5 // start of a started pool, stop of a stopped one
	ExitHostDown       = 6 // the command needs poolctl host and it is not running
	ExitPermission     = 7 // not allowed: file permissions, or the host refused the caller
	ExitInUse          = 8 // refused because others still use the object
	ExitBusy           = 9 // the store stayed locked by another poolctl for --timeout
)

// ExitUnavailable is for a store that could not be reached (etcd's
// endpoints did not answer): nothing was changed.
const ExitUnavailable = 10

// ErrUsage marks a command line poolctl cannot make sense of.
var ErrUsage = params.ErrUsage

// ErrAlreadyInState marks a start or stop that finds the object already
// there; the host reports the same condition with the same sentinel.
var ErrAlreadyInState = hostapi.ErrAlreadyInState

// exitCode maps an error to its exit code through its sentinel.
func exitCode(err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrUsage), errors.Is(err, store.ErrInvalid):
		return ExitUsage
	case errors.Is(err, store.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, store.ErrExists):
		return ExitExists
	case errors.Is(err, ErrAlreadyInState):
		return ExitAlreadyInState
	case errors.Is(err, hostapi.ErrHostDown):
		return ExitHostDown
	case errors.Is(err, hostapi.ErrForbidden), errors.Is(err, fs.ErrPermission):
		return ExitPermission
	case errors.Is(err, store.ErrInUse):
		return ExitInUse
	case errors.Is(err, store.ErrLockTimeout):
		return ExitBusy
	case errors.Is(err, store.ErrUnavailable):
		return ExitUnavailable
	}
	return ExitFailure
}

// printError writes the error in appcmd's shape, on stderr.
func printError(w io.Writer, err error) {
	msg := err.Error()
	if errors.Is(err, fs.ErrPermission) && !strings.Contains(msg, "sudo") {
		msg += " (run as root, or give a store you may write with --config or $POOLCTL_CONFIG)"
	}
	fmt.Fprintf(w, "ERROR ( message:%s )\n", msg)
}

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUsage}, args...)...)
}
