package apppool

import (
	"context"
	"errors"
	"testing"
	"time"
)

// newTestPool returns a started pool with no actor, for dispatcher tests.
func newTestPool(queue, maxConcurrent int, workers ...*Worker) *Pool {
	p := &Pool{name: "T", kick: make(chan struct{}, 1), state: Started, waiters: newWaiters(),
		notes: make(chan note, 64), done: make(chan struct{}), launching: map[*Worker]struct{}{},
		draining: map[*Worker]struct{}{}, settings: Settings{QueueLength: queue, MaxConcurrent: maxConcurrent}}
	p.active = append(p.active, workers...)
	return p
}

func testWorker(pid int) *Worker {
	return &Worker{PID: pid, state: WorkerReady, reqs: map[*Request]struct{}{}}
}

func TestPickLeastBusyRoundRobin(t *testing.T) {
	a, b, c := testWorker(1), testWorker(2), testWorker(3)
	p := newTestPool(10, 0, a, b, c)
	a.inflight, b.inflight, c.inflight = 2, 0, 1
	if w := p.pick(); w != b {
		t.Fatalf("pick = %d, want the least busy (2)", w.PID)
	}
	// Ties go round-robin: idle workers take turns.
	b.inflight = 2
	a.inflight, b.inflight, c.inflight = 0, 0, 0
	seen := map[int]int{}
	for range 9 {
		seen[p.pick().PID]++
	}
	if seen[1] != 3 || seen[2] != 3 || seen[3] != 3 {
		t.Errorf("9 picks among 3 idle workers: %v, want 3 each", seen)
	}
}

func TestPickRespectsMaxConcurrent(t *testing.T) {
	a, b := testWorker(1), testWorker(2)
	p := newTestPool(10, 1, a, b)
	a.inflight, b.inflight = 1, 1
	if w := p.pick(); w != nil {
		t.Fatalf("pick = %d with every worker at maxConcurrentRequests, want none", w.PID)
	}
	b.inflight = 0
	if w := p.pick(); w != b {
		t.Fatalf("pick = %v, want the worker with room", w)
	}
}

func TestAcquireQueueRelease(t *testing.T) {
	a := testWorker(1)
	p := newTestPool(10, 1, a)
	ctx := context.Background()
	r1, r2 := &Request{ID: 1}, &Request{ID: 2}
	w, err := p.Acquire(ctx, r1)
	if err != nil || w != a {
		t.Fatalf("first Acquire = %v, %v", w, err)
	}
	got := make(chan *Worker, 1)
	go func() {
		w, err := p.Acquire(ctx, r2)
		if err != nil {
			t.Error(err)
		}
		got <- w
	}()
	waitQueued(t, p, 1)
	select {
	case <-got:
		t.Fatal("second request was served while the only worker was busy")
	default:
	}
	p.Release(a, r1)
	select {
	case w := <-got:
		if w != a || a.inflight != 1 || a.served != 1 {
			t.Fatalf("queued request got %v (inflight %d served %d)", w, a.inflight, a.served)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the queued request was not handed the released worker")
	}
}

func TestAcquireQueueFullAndStopped(t *testing.T) {
	a := testWorker(1)
	p := newTestPool(1, 1, a)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := p.Acquire(ctx, &Request{}); err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = p.Acquire(ctx, &Request{}) }() // fills the queue of 1
	waitQueued(t, p, 1)
	if _, err := p.Acquire(ctx, &Request{}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Acquire with a full queue = %v, want ErrQueueFull", err)
	}
	p.mu.Lock()
	p.state = Stopped
	p.mu.Unlock()
	if _, err := p.Acquire(ctx, &Request{}); !errors.Is(err, ErrPoolStopped) {
		t.Fatalf("Acquire on a stopped pool = %v, want ErrPoolStopped", err)
	}
	p.mu.Lock()
	p.disabled = true
	p.mu.Unlock()
	if _, err := p.Acquire(ctx, &Request{}); !errors.Is(err, ErrPoolDisabled) {
		t.Fatalf("Acquire on a disabled pool = %v, want ErrPoolDisabled", err)
	}
}

func TestAcquireCancelLeavesQueue(t *testing.T) {
	a := testWorker(1)
	p := newTestPool(5, 1, a)
	a.inflight = 1
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := p.Acquire(ctx, &Request{}); errc <- err }()
	waitQueued(t, p, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Acquire = %v", err)
	}
	p.mu.Lock()
	n := p.waiters.Len()
	p.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d waiters left after the client went away", n)
	}
}

func TestDrainClosesWhenIdle(t *testing.T) {
	a := testWorker(1)
	p := newTestPool(5, 0, a)
	r := &Request{}
	if _, err := p.Acquire(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	drained := p.startDrain(a)
	p.mu.Unlock()
	select {
	case <-drained:
		t.Fatal("drained with a request in flight")
	default:
	}
	if w := func() *Worker { p.mu.Lock(); defer p.mu.Unlock(); return p.pick() }(); w != nil {
		t.Fatal("a draining worker is still picked")
	}
	p.Release(a, r)
	select {
	case <-drained:
	case <-time.After(5 * time.Second):
		t.Fatal("not drained after its last request")
	}
}

func TestStateMachine(t *testing.T) {
	tests := []struct {
		from, to State
		ok       bool
	}{
		{Stopped, Starting, true}, {Starting, Started, true}, {Started, Stopping, true}, {Stopping, Stopped, true},
		{Stopped, Started, false}, {Started, Starting, false}, {Stopping, Started, false}, {Started, Stopped, false},
	}
	for _, tt := range tests {
		p := &Pool{name: "T", state: tt.from}
		err := p.move(tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("%s → %s: err %v, want ok=%v", tt.from, tt.to, err, tt.ok)
		}
		var te *TransitionError
		if !tt.ok && !errors.As(err, &te) {
			t.Errorf("%s → %s: error %v is not a *TransitionError", tt.from, tt.to, err)
		}
	}
}

// waitQueued waits until n requests wait in the pool's queue.
func waitQueued(t *testing.T, p *Pool, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		got := p.waiters.Len()
		p.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}
