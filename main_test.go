package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run this test binary as the poolctl command.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"poolctl": main})
}

// TestScript runs the CLI scripts in testdata/script against the real
// binary entry point: one behaviour per file, exit codes and output pinned.
func TestScript(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("POOLCTL_UPDATE_SCRIPTS") == "1",
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exits": cmdExits, "eventfixture": cmdEventFixture},
		Condition:           condition,
		Setup: func(env *testscript.Env) error {
			env.Setenv("POOLCTL_CONFIG", filepath.Join(env.WorkDir, "etc", "applicationHost.toml"))
			// Unix socket paths are limited to 108 bytes; $WORK can be longer.
			sockDir, err := os.MkdirTemp("", "pc")
			if err != nil {
				return err
			}
			env.Defer(func() { os.RemoveAll(sockDir) })
			env.Setenv("POOLCTL_SOCKET", filepath.Join(sockDir, "host.sock"))
			env.Setenv("POOLCTL_AGE_WORK_FACTOR", "10")
			env.Setenv("TZ", "UTC")
			return nil
		},
	})
}

// condition adds the script condition [root]: the tests run as root, for
// whom file permissions do not apply.
func condition(cond string) (bool, error) {
	if cond == "root" {
		return os.Geteuid() == 0, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// cmdExits is the script command "exits N prog args...": run prog and
// require exit status N exactly, keeping its stdout and stderr for the
// stdout and stderr commands that follow.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits N prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: %q is not an exit status", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}
