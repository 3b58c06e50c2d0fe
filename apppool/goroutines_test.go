package apppool

import (
	"runtime"
	"testing"
	"time"
)

// TestGoroutinesPerWorker checks what a running worker costs the host in
// goroutines: none. internal/proc's hub copies its output and watches its
// exit; the pool's exit handling and the removal of its cgroup run on the
// short-lived goroutine that reaps it. The host runs hundreds of workers.
func TestGoroutinesPerWorker(t *testing.T) {
	const n = 8
	tp := newWorkerPool(t, n, true)
	base := runtime.NumGoroutine() // the pool's loop runs already
	startPool(t, tp.Pool)
	waitFor(t, "the workers", func() bool { k, _ := tp.serving(); return k == n })
	// Launches end in goroutines that are on their way out: wait for the
	// count to settle, with the deadline only as a failure guard.
	const perWorker = 0
	var got int
	deadline := time.Now().Add(20 * time.Second)
	for {
		got = runtime.NumGoroutine() - base
		if got <= perWorker*n+2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d workers: %d goroutines more than the stopped pool", n, got)
	if got > perWorker*n+2 {
		t.Errorf("%d workers cost %d goroutines, want %d per worker (+2)", n, got, perWorker)
	}
}
