package commands

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/store"
)

// TestExitCode pins the documented exit-code table: each sentinel, even
// wrapped, maps to its code.
func TestExitCode(t *testing.T) {
	wrap := func(err error) error { return fmt.Errorf("context: %w", err) }
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, ExitOK},
		{"plain", errors.New("boom"), ExitFailure},
		{"usage", wrap(params.ErrUsage), ExitUsage},
		{"invalid", store.PropertyError("apppool", "A", "queueLength", errors.New("out of range")), ExitUsage},
		{"not found", store.NotFound("apppool", "A"), ExitNotFound},
		{"exists", store.Exists("apppool", "a", "A"), ExitExists},
		{"already", wrap(ErrAlreadyInState), ExitAlreadyInState},
		{"host already", &hostapi.RemoteError{Status: 409, Body: hostapi.ErrorBody{Code: hostapi.CodeAlready}}, ExitAlreadyInState},
		{"host not found", &hostapi.RemoteError{Status: 404, Body: hostapi.ErrorBody{Code: hostapi.CodeNotFound}}, ExitNotFound},
		{"host down", &hostapi.HostDownError{Socket: "/x", Err: fs.ErrNotExist}, ExitHostDown},
		{"forbidden", wrap(hostapi.ErrForbidden), ExitPermission},
		{"permission", wrap(fs.ErrPermission), ExitPermission},
		{"in use", &store.ObjectError{Object: "apppool", ID: "A", Msg: "in use", Err: store.ErrInUse}, ExitInUse},
		{"locked", wrap(store.ErrLockTimeout), ExitBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
