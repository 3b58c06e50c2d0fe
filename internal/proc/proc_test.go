package proc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

func TestStartExitCode(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 1, 3, 42} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			p, _ := startSleeper(t, "-exit-after", "1ms", "-exit-code", strconv.Itoa(code))
			waitDone(t, p, 10*time.Second)
			st := p.Exit()
			if st == nil {
				t.Fatal("Exit() = nil after Done")
			}
			if !st.Exited() || st.ExitCode() != code {
				t.Errorf("exit state %v, want exit code %d", st, code)
			}
			if p.Pid <= 0 || p.Started.IsZero() || time.Since(p.Started) > time.Minute {
				t.Errorf("Pid %d, Started %v", p.Pid, p.Started)
			}
		})
	}
}

func TestExitNilBeforeDone(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t)
	select {
	case <-p.Done():
		t.Fatal("Done closed for a running process")
	default:
	}
	if st := p.Exit(); st != nil {
		t.Errorf("Exit() = %v before Done, want nil", st)
	}
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	missingDir := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		name string
		spec Spec
		is   error // nil: any error
	}{
		{"empty path", Spec{}, nil},
		{"missing program", Spec{Path: "/nonexistent/program"}, fs.ErrNotExist},
		{"not in PATH", Spec{Path: "no-such-program-here", Env: []string{"PATH=/nonexistent:/usr/nonexistent"}}, exec.ErrNotFound},
		{"missing dir", Spec{Path: sleeper(t), Dir: missingDir}, fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(tt.spec)
			if err == nil {
				_, _ = p.Stop(context.Background(), 0)
				t.Fatal("Start succeeded")
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Start error %v, want one wrapping %v", err, tt.is)
			}
		})
	}
}

func TestStopCooperative(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t)
	begin := time.Now()
	killed, err := p.Stop(context.Background(), 30*time.Second)
	elapsed := time.Since(begin)
	if err != nil || killed {
		t.Fatalf("Stop = %v, %v; want false, nil", killed, err)
	}
	// Not killed: it ended on SIGTERM, without waiting out the 30 s grace.
	t.Logf("Stop of a cooperative process took %v", elapsed)
	if st := p.Exit(); st == nil || st.ExitCode() != 0 {
		t.Errorf("exit state %v, want exit code 0", st)
	}
}

func TestStopIgnoringTerm(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t, "-ignore-term")
	const grace = 300 * time.Millisecond
	begin := time.Now()
	killed, err := p.Stop(context.Background(), grace)
	elapsed := time.Since(begin)
	if err != nil || !killed {
		t.Fatalf("Stop = %v, %v; want true, nil", killed, err)
	}
	// Not before the grace (a busy machine may make it later).
	if elapsed < grace {
		t.Errorf("Stop took %v, want at least the grace %v", elapsed, grace)
	}
	assertKilledBy(t, p, syscall.SIGKILL)
}

func TestStopZeroGraceKillsAtOnce(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t)
	killed, err := p.Stop(context.Background(), 0)
	if err != nil || !killed {
		t.Fatalf("Stop = %v, %v; want true, nil", killed, err)
	}
	assertKilledBy(t, p, syscall.SIGKILL)
}

func TestStopContextDone(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t, "-ignore-term")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begin := time.Now()
	killed, err := p.Stop(ctx, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) || !killed {
		t.Fatalf("Stop = %v, %v; want true, deadline exceeded", killed, err)
	}
	// DeadlineExceeded and killed: it returned on the context's end, not
	// after the minute of grace.
	t.Logf("Stop returned after %v", time.Since(begin))
	// Stop escalated to SIGKILL, so the process still ends and is reaped.
	waitDone(t, p, 5*time.Second)
	assertKilledBy(t, p, syscall.SIGKILL)
}

func TestStopAndSignalAfterExit(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t, "-exit-after", "1ms", "-exit-code", "7")
	waitDone(t, p, 10*time.Second)
	killed, err := p.Stop(context.Background(), time.Second)
	if err != nil || killed {
		t.Errorf("Stop after exit = %v, %v; want false, nil", killed, err)
	}
	for name, f := range map[string]func() error{
		"Signal":  func() error { return p.Signal(syscall.SIGTERM) },
		"Suspend": p.Suspend,
		"Resume":  p.Resume,
	} {
		if err := f(); !errors.Is(err, os.ErrProcessDone) {
			t.Errorf("%s after exit = %v, want os.ErrProcessDone", name, err)
		}
	}
	if st := p.Exit(); st.ExitCode() != 7 {
		t.Errorf("exit state %v, want 7", st)
	}
}

func TestConcurrentStops(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t, "-ignore-term")
	errs := make(chan error, 4)
	for range cap(errs) {
		go func() {
			_, err := p.Stop(context.Background(), 50*time.Millisecond)
			errs <- err
		}()
	}
	for range cap(errs) {
		select {
		case err := <-errs:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("concurrent Stop calls did not return")
		}
	}
}

func TestGroupKillReachesGrandchild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		end  func(*testing.T, *Process)
	}{
		{"stop", nil, func(t *testing.T, p *Process) {
			// The worker ends on SIGTERM; the grandchild ignores it
			// and is killed with the group's remains.
			if _, err := p.Stop(context.Background(), 10*time.Second); err != nil {
				t.Fatal(err)
			}
		}},
		{"signal", nil, func(t *testing.T, p *Process) {
			if err := p.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}},
		{"worker exits alone", []string{"-exit-after", "100ms"}, func(*testing.T, *Process) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, out := startSleeper(t, append([]string{"-child"}, tt.args...)...)
			gpid, _ := strconv.Atoi(out.waitFor(t, childRE, 10*time.Second)[1])
			grandchild := identify(t, gpid)
			if st, err := readStat(gpid); err != nil || st.pgrp != p.Pid {
				t.Fatalf("grandchild %d: group %d, %v; want %d", gpid, st.pgrp, err, p.Pid)
			}
			tt.end(t, p)
			waitDone(t, p, 10*time.Second)
			grandchild.waitState(t, "dead", dead, 5*time.Second)
		})
	}
}

func TestNoZombieAfterStop(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"-ignore-term"}} {
		t.Run(fmt.Sprint(args), func(t *testing.T) {
			t.Parallel()
			p, _ := startSleeper(t, args...)
			worker := identify(t, p.Pid)
			if _, err := p.Stop(context.Background(), 100*time.Millisecond); err != nil {
				t.Fatal(err)
			}
			// Reaped, not merely dead: no zombie is left.
			if s := worker.status(t); s != 0 {
				t.Errorf("process %d still in /proc with state %q after Stop", p.Pid, s)
			}
		})
	}
}

func TestSuspendResume(t *testing.T) {
	t.Parallel()
	p, out := startSleeper(t, "-child")
	gpid, _ := strconv.Atoi(out.waitFor(t, childRE, 10*time.Second)[1])
	ids := []identity{identify(t, p.Pid), identify(t, gpid)}
	stopped := func(s byte) bool { return s == 'T' }
	running := func(s byte) bool { return s != 'T' && !dead(s) }

	if err := p.Suspend(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		id.waitState(t, "stopped", stopped, 5*time.Second)
	}
	if err := p.Resume(); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		id.waitState(t, "running", running, 5*time.Second)
	}

	// A suspended worker still stops cooperatively: Stop follows SIGTERM
	// with SIGCONT.
	if err := p.Suspend(); err != nil {
		t.Fatal(err)
	}
	ids[0].waitState(t, "stopped", stopped, 5*time.Second)
	killed, err := p.Stop(context.Background(), 30*time.Second)
	if err != nil || killed {
		t.Errorf("Stop of a suspended worker = %v, %v; want false, nil", killed, err)
	}
}

// assertKilledBy checks that p was reaped after dying of sig.
func assertKilledBy(t *testing.T, p *Process, sig syscall.Signal) {
	t.Helper()
	st := p.Exit()
	if st == nil {
		t.Fatal("Exit() = nil after Stop")
	}
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != sig {
		t.Errorf("exit state %v, want killed by %v", st, sig)
	}
}
