package proc

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/poolctl/poolctl/internal/epollset"
	"golang.org/x/sys/unix"
)

// The output of every child whose Stdout or Stderr is a writer rather than
// a file goes through a pipe that one goroutine, the hub, reads for all
// children: an epoll set of the pipes, itself waited on through the
// runtime's poller. os/exec would run a copying goroutine, with its stack
// and buffer, per child for the child's whole life. The same set holds each
// child's pidfd: when one becomes readable (the child exited), the hub
// hands the exit to a short-lived goroutine (Process.wait). So a running
// child costs the host no goroutine at all. Where the hub cannot be set up,
// os/exec's copying (copybuf.go) and a goroutine per child are used.

// hubReadsPerWake bounds how much of one pipe the hub copies before it
// looks at the others (that many buffers), so that a child that writes
// without pause does not hold up the rest.
const hubReadsPerWake = 4

// hubBufferSize is the hub's one copy buffer.
const hubBufferSize = 32 << 10

// outputHub reads the registered pipes and copies what they carry to their
// writers.
type outputHub struct {
	set *epollset.Set

	mu      sync.Mutex
	entries map[int]hubEntry // by descriptor
}

// hubEntry is what one descriptor of the set is: an output pipe, or a
// child's pidfd with what to run once the child has exited.
type hubEntry struct {
	pipe   *outPipe
	exited func()
}

// outPipe is the read end of one child's output pipe.
type outPipe struct {
	hub  *outputHub
	w    io.Writer
	done chan struct{} // closed once the pipe reached EOF or was closed

	mu sync.Mutex // held while fd is read or closed
	fd int        // -1 once closed
}

// theHub is the process's output hub, set up on first use.
var theHub = sync.OnceValues(newOutputHub)

// newOutputHub creates the epoll set and starts the hub's goroutine.
func newOutputHub() (*outputHub, error) {
	set, err := epollset.New("output-hub")
	if err != nil {
		return nil, fmt.Errorf("output hub: %w", err)
	}
	h := &outputHub{set: set, entries: map[int]hubEntry{}}
	go h.run()
	return h, nil
}

// run waits for pipes with data or at EOF and services them, for the life
// of the process.
func (h *outputHub) run() {
	events := make([]unix.EpollEvent, 64)
	buf := make([]byte, hubBufferSize)
	for {
		n, err := h.set.Wait(events)
		if err != nil {
			return // the set was closed: never while the process runs
		}
		for _, ev := range events[:n] {
			h.mu.Lock()
			e := h.entries[int(ev.Fd)]
			h.mu.Unlock()
			switch {
			case e.pipe != nil:
				e.pipe.service(int(ev.Fd), buf)
			case e.exited != nil:
				h.checkExit(int(ev.Fd), e.exited)
			}
		}
	}
}

// add registers the read end rfd, which carries output for w.
func (h *outputHub) add(rfd int, w io.Writer) (*outPipe, error) {
	if err := unix.SetNonblock(rfd, true); err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	p := &outPipe{hub: h, w: w, done: make(chan struct{}), fd: rfd}
	if err := h.register(rfd, hubEntry{pipe: p}); err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	return p, nil
}

// register adds fd to the set. Level-triggered: a pipe left with data
// (hubReadsPerWake) is reported again.
func (h *outputHub) register(fd int, e hubEntry) error {
	h.mu.Lock()
	h.entries[fd] = e
	h.mu.Unlock()
	if err := h.set.Add(fd, unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}); err != nil {
		h.mu.Lock()
		delete(h.entries, fd)
		h.mu.Unlock()
		return err
	}
	return nil
}

// unregister takes fd out of the set and closes it. The entry goes before
// the descriptor is closed, so its number, once reused, never finds it.
func (h *outputHub) unregister(fd int) {
	h.mu.Lock()
	delete(h.entries, fd)
	h.mu.Unlock()
	_ = h.set.Delete(fd)
	_ = unix.Close(fd)
}

// watchExit has exited run on a goroutine of its own once the child pid
// has exited (not reaped: its zombie stays for exited to deal with). The
// child must not have been reaped yet.
func (h *outputHub) watchExit(pid int, exited func()) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	if err := h.register(fd, hubEntry{exited: exited}); err != nil {
		_ = unix.Close(fd)
		return fmt.Errorf("watch %d: %w", pid, err)
	}
	return nil
}

// checkExit looks whether the child behind the pidfd fd has exited (the
// event may be stale: a pipe's number reused), and if so, or if the pidfd
// can no longer tell, closes it and starts exited.
func (h *outputHub) checkExit(fd int, exited func()) {
	var info unix.Siginfo
	var err error
	for range maxEINTR {
		err = unix.Waitid(unix.P_PIDFD, fd, &info, unix.WEXITED|unix.WNOWAIT|unix.WNOHANG, nil)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err == nil && info.Signo != int32(unix.SIGCHLD) {
		return // still running; with WNOHANG the kernel zeroes info
	}
	h.unregister(fd)
	go exited()
}

// service copies what pipe fd holds (up to hubReadsPerWake buffers) to
// the writer, and closes the pipe at EOF. The writer's errors are ignored:
// the pipe is still drained, so the child never blocks on its output.
func (p *outPipe) service(fd int, buf []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fd != fd {
		return // closed (and the number maybe reused) meanwhile
	}
	for range hubReadsPerWake {
		n, err := unix.Read(fd, buf)
		switch {
		case n > 0:
			_, _ = p.w.Write(buf[:n])
		case errors.Is(err, unix.EINTR):
		case errors.Is(err, unix.EAGAIN):
			return
		default: // EOF, or an error that will not go away
			p.closeLocked()
			return
		}
	}
}

// close closes the pipe if it is still open (an escaped process held it
// past ioDrainLimit).
func (p *outPipe) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fd >= 0 {
		p.closeLocked()
	}
}

// closeLocked takes the pipe out of the hub and closes it. Called with
// p.mu held.
func (p *outPipe) closeLocked() {
	p.hub.unregister(p.fd)
	p.fd = -1
	close(p.done)
}
