package proc

import (
	"context"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOutputNoGoroutinePerProcess: running children whose output goes to a
// writer (the pool's log) cost the host no goroutine: the hub copies their
// output and watches their pidfds.
func TestOutputNoGoroutinePerProcess(t *testing.T) {
	if _, err := theHub(); err != nil || !pidfdAvailable() {
		t.Skipf("no hub (%v) or no pidfd", err)
	}
	const n = 30
	sleep := sleeper(t)
	base := runtime.NumGoroutine()
	outs := make([]*outputBuffer, 0, n)
	for range n {
		out := newOutputBuffer()
		p, err := Start(Spec{Path: sleep, Args: []string{"-max-life", "60s"}, Stdout: out, Stderr: out})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := p.Stop(ctx, 0); err != nil {
				t.Errorf("cleanup: %v", err)
			}
		})
		outs = append(outs, out)
	}
	for _, out := range outs {
		out.waitFor(t, readyRE, 20*time.Second) // the output arrives
	}
	got := runtime.NumGoroutine() - base
	t.Logf("%d children with their output to writers: %d more goroutines", n, got)
	if got > 3 { // the hub and the spawner, started by the first child
		t.Errorf("%d children cost %d goroutines, want none (+3)", n, got)
	}
}

// TestOutputSeparateWriters: standard output and error to two writers,
// a megabyte through one of them while the other carries a line, all of it
// copied, in order.
func TestOutputSeparateWriters(t *testing.T) {
	t.Parallel()
	stdout, stderr := newOutputBuffer(), newOutputBuffer()
	p, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", `i=0; while [ $i -lt 20000 ]; do echo "line $i ................................................"; i=$((i+1)); done; echo to-stderr >&2`},
		Stdout: stdout, Stderr: stderr})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, p, 60*time.Second)
	if st := p.Exit(); st == nil || st.ExitCode() != 0 {
		t.Fatalf("exit state %v", st)
	}
	lines := strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n")
	if len(lines) != 20000 {
		t.Fatalf("%d lines of standard output, want 20000", len(lines))
	}
	for i, l := range lines {
		if !strings.HasPrefix(l, "line "+strconv.Itoa(i)+" ") {
			t.Fatalf("line %d is %q", i, l)
		}
	}
	if got := stderr.String(); got != "to-stderr\n" {
		t.Errorf("standard error %q, want \"to-stderr\\n\"", got)
	}
}

// TestOutputDrainLimit: a process that left the group (setsid) keeps the
// output pipe open after the child exited: the child is still reported
// done, within about ioDrainLimit, with the output it wrote.
func TestOutputDrainLimit(t *testing.T) {
	t.Parallel()
	out := newOutputBuffer()
	// The shell exits once the escapee is in a session of its own (it
	// touches "left" then); a bounded wait.
	script := `setsid sh -c 'echo "escapee $$"; touch "$1/left"; exec sleep 20' - "$1" &
i=0; while [ ! -e "$1/left" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i+1)); done; echo bye`
	p, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", script, "-", t.TempDir()}, Stdout: out, Stderr: out})
	if err != nil {
		t.Fatal(err)
	}
	m := out.waitFor(t, regexp.MustCompile(`escapee (\d+)`), 20*time.Second)
	pid, _ := strconv.Atoi(m[1])
	escapee := identify(t, pid)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
	begin := time.Now()
	waitDone(t, p, 30*time.Second)
	t.Logf("done %v after the escapee was seen", time.Since(begin))
	// It was the limit, not an EOF, that let Done close.
	if s := escapee.status(t); dead(s) {
		t.Fatalf("the escaped process %d is gone (state %q): the test proves nothing", pid, s)
	}
	if !strings.Contains(out.String(), "bye\n") {
		t.Errorf("output %q, want it to end with bye", out.String())
	}
}
