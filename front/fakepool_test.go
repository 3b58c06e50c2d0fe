package front

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/poolctl/poolctl/apppool"
	"github.com/poolctl/poolctl/forward"
)

// fakePools hands the front one fake pool, "P".
type fakePools struct{ pool *fakePool }

func (p fakePools) FindPool(name string) Pool {
	if name != p.pool.name {
		return nil
	}
	return p.pool
}

// fakeWorker forwards to a real backend on 127.0.0.1 and counts the
// requests it was given.
type fakeWorker struct {
	pid    int
	target *forward.Target
}

func (w *fakeWorker) Forward(rw http.ResponseWriter, r *http.Request) error {
	return w.target.Forward(rw, r)
}

func (w *fakeWorker) PID() int { return w.pid }

// fakePool lends its workers round robin, skipping discarded ones, and
// records what the front did with them: acquires, releases, discards and
// the counters it updated.
type fakePool struct {
	name    string
	workers []*fakeWorker

	mu        sync.Mutex
	next      int
	acquired  map[int]int // pid -> requests given
	released  int
	discarded []int // pids
	observed  []int // statuses counted
	refused   []apppool.Refusal
	hung      map[int]bool // pids the host took down (TakenDown)
}

func newFakePool(addrs ...string) *fakePool {
	p := &fakePool{name: "P", acquired: map[int]int{}, hung: map[int]bool{}}
	for i, a := range addrs {
		p.workers = append(p.workers, &fakeWorker{pid: 1000 + i, target: forward.NewTarget("tcp", a, forward.Options{DialTimeout: 10 * time.Second})})
	}
	return p
}

func (p *fakePool) close() {
	for _, w := range p.workers {
		w.target.Close()
	}
}

func (p *fakePool) Name() string   { return p.name }
func (p *fakePool) TCPLevel() bool { return false }

// TakenDown: the workers listed in hung were taken down by the "host".
func (p *fakePool) TakenDown(w Worker) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hung[w.PID()]
}
func (p *fakePool) MaxWorkers() int { return len(p.workers) }

func (p *fakePool) Acquire(ctx context.Context, _ *apppool.Request) (Worker, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.workers {
		w := p.workers[p.next%len(p.workers)]
		p.next++
		if !p.isDiscarded(w.pid) {
			p.acquired[w.pid]++
			return w, nil
		}
	}
	return nil, errors.New("fake pool: no worker left")
}

func (p *fakePool) isDiscarded(pid int) bool {
	for _, d := range p.discarded {
		if d == pid {
			return true
		}
	}
	return false
}

func (p *fakePool) Release(Worker, *apppool.Request) {
	p.mu.Lock()
	p.released++
	p.mu.Unlock()
}

func (p *fakePool) Discard(w Worker, _ string) {
	p.mu.Lock()
	p.discarded = append(p.discarded, w.PID())
	p.mu.Unlock()
}

func (p *fakePool) ObserveRequest(status int, _ time.Duration) {
	p.mu.Lock()
	p.observed = append(p.observed, status)
	p.mu.Unlock()
}

func (p *fakePool) Refused(why apppool.Refusal) {
	p.mu.Lock()
	p.refused = append(p.refused, why)
	p.mu.Unlock()
}

// snapshot returns a copy of what the pool recorded.
func (p *fakePool) snapshot() (acquired map[int]int, released int, discarded, observed []int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	acquired = map[int]int{}
	for k, v := range p.acquired {
		acquired[k] = v
	}
	return acquired, p.released, append([]int(nil), p.discarded...), append([]int(nil), p.observed...)
}
