package proc

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// threadCount reads the number of OS threads of the test process.
func threadCount(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		if v, ok := bytes.CutPrefix(s.Bytes(), []byte("Threads:")); ok {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// TestNoThreadPerProcess starts n children and checks that waiting for
// them does not hold an OS thread each: the host runs hundreds of workers.
// Not parallel: other tests' children would count.
func TestNoThreadPerProcess(t *testing.T) {
	if !pidfdAvailable() {
		t.Skip("no pidfd on this kernel: the fallback holds a thread per process")
	}
	const n = 50
	sleep := sleeper(t)
	before := threadCount(t)
	procs := make([]*Process, 0, n)
	t.Cleanup(func() {
		for _, p := range procs {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if _, err := p.Stop(ctx, 0); err != nil {
				t.Errorf("cleanup: %v", err)
			}
			cancel()
		}
	})
	for range n {
		p, err := Start(Spec{Path: sleep, Args: []string{"-max-life", "60s"}})
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	after := threadCount(t)
	t.Logf("threads: %d before, %d with %d children", before, after, n)
	if after-before >= n/2 {
		t.Errorf("%d children added %d threads, want far fewer than %d", n, after-before, n)
	}
	// They are still waited for: killing one is noticed and it is reaped.
	if err := procs[0].Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(t, procs[0], 10*time.Second)
	assertKilledBy(t, procs[0], syscall.SIGKILL)
}

// TestBlockingWaitFallback runs a process the way kernels without pidfds
// do: its exit state is collected and the group it leaves is killed.
func TestBlockingWaitFallback(t *testing.T) {
	t.Parallel()
	out := newOutputBuffer()
	p, err := start(Spec{Path: sleeper(t), Args: []string{"-child"}, Stdout: out, Stderr: out}, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _ = p.Stop(ctx, 0)
	})
	gpid, _ := strconv.Atoi(out.waitFor(t, childRE, 10*time.Second)[1])
	grandchild := identify(t, gpid)
	// The leader alone: the reaper kills the rest of the group.
	if err := syscall.Kill(p.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p, 10*time.Second)
	assertKilledBy(t, p, syscall.SIGKILL)
	grandchild.waitState(t, "dead", dead, 5*time.Second)
}

// TestOnDone checks that functions registered with OnDone run once the
// process is reaped, the last registered first, and that one registered
// after that runs too.
func TestOnDone(t *testing.T) {
	t.Parallel()
	p, _ := startSleeper(t)
	order := make(chan int, 3)
	p.OnDone(func() {
		select {
		case <-p.Done():
		default:
			t.Error("OnDone function ran before Done was closed")
		}
		order <- 1
	})
	p.OnDone(func() { order <- 2 })
	if err := p.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitDone(t, p, 10*time.Second)
	next := func(want int) {
		t.Helper()
		select {
		case got := <-order:
			if got != want {
				t.Fatalf("OnDone function %d ran, want %d next", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("OnDone function %d did not run", want)
		}
	}
	next(2)
	next(1)
	p.OnDone(func() { order <- 3 })
	next(3)
}
