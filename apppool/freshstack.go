package apppool

import "time"

// A pool's loop (run) parks most of its life, but what it does on each
// event goes deep (a launch, a recycle plan, reading /proc and cgroup files
// every second, formatting events): run on the loop itself, it would keep
// the loop's stack at its high-water mark, 8 to 16 KB for each of hundreds
// of pools, until garbage collections shrink it (and a host at rest
// collects nothing). So the loop hands every event to a goroutine of its
// own and waits for it: for the pool, it is as if the loop ran it. The
// function that goroutine runs and the channel it signals on are made once
// per pool; the event is passed in freshLoop's fields: no garbage per
// event (a tick every second, for hundreds of pools, would otherwise be the
// host's main garbage at rest).

// evKind says which event the loop hands over.
type evKind uint8

const (
	evAction evKind = iota // a function from do, after applyNext
	evKick                 // converge
	evReconf               // applyNext
	evNote                 // onNote
	evExit                 // onExit
	evPing                 // onPing
	evTick                 // tick
)

// freshLoop is the event being handed over and the means to run it; only
// the loop (and the goroutine it waits for) touches it.
type freshLoop struct {
	kind   evKind
	action func()
	note   note
	exit   exitNote
	ping   pingResult
	now    time.Time

	done chan struct{}
	run  func()
}

// onFresh runs the event in p.fresh (kind k) on a fresh goroutine and
// waits for it. Called on the loop only.
func (p *Pool) onFresh(k evKind) {
	ev := &p.fresh
	if ev.run == nil {
		ev.done = make(chan struct{})
		ev.run = func() {
			p.handle(ev)
			ev.done <- struct{}{}
		}
	}
	ev.kind = k
	go ev.run()
	<-ev.done
}

// handle runs one event, then clears it, so that nothing it refers to
// stays reachable from the pool.
func (p *Pool) handle(ev *freshLoop) {
	switch ev.kind {
	case evAction:
		p.applyNext() // a call made after Reconfigure sees its settings
		ev.action()
	case evKick:
		p.converge(time.Now())
	case evReconf:
		p.applyNext()
	case evNote:
		p.onNote(ev.note)
	case evExit:
		p.onExit(ev.exit)
	case evPing:
		p.onPing(ev.ping) // health.go
	case evTick:
		p.tick(ev.now)
	}
	ev.action, ev.note, ev.exit, ev.ping = nil, note{}, exitNote{}, pingResult{}
}
