package commands

import (
	"strconv"
	"strings"
	"testing"
)

// TestReferenceExitCodes: the reference lists every exit code once, in
// order, and the overview's table names each.
func TestReferenceExitCodes(t *testing.T) {
	r := CommandReference()
	for i, c := range r.ExitCodes {
		if c.Code != i || c.Meaning == "" {
			t.Errorf("exit code %d: %+v", i, c)
		}
		if !strings.Contains(exitCodeHelp, "  "+strconv.Itoa(c.Code)+" ") {
			t.Errorf("help's exit code table has no code %d", c.Code)
		}
	}
	if len(r.ExitCodes) != ExitUnavailable+1 {
		t.Errorf("%d exit codes, want %d", len(r.ExitCodes), ExitUnavailable+1)
	}
	if len(r.Objects) == 0 || len(r.HostFlags) == 0 || len(r.GlobalFlags) == 0 {
		t.Errorf("empty reference: %d objects, %d host flags, %d global flags", len(r.Objects), len(r.HostFlags), len(r.GlobalFlags))
	}
}
