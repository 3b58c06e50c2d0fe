package proc

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// childOutput wires a child's standard output and error: files go to the
// child as they are, other writers are fed from pipes by the output hub
// (outhub.go), or by os/exec's copying goroutines where there is no hub.
type childOutput struct {
	stdout, stderr io.Writer  // for the exec.Cmd
	writeEnds      []*os.File // the host's copies of the pipes' write ends, closed once the child has its own
	pipes          []*outPipe
}

// wireOutput prepares the child's output to go to stdout and stderr.
func wireOutput(stdout, stderr io.Writer) (*childOutput, error) {
	o := &childOutput{}
	hub, err := theHub()
	if err != nil {
		o.stdout, o.stderr = smallCopy(stdout), smallCopy(stderr) // copybuf.go
		return o, nil
	}
	if o.stdout, err = o.wire(hub, stdout); err != nil {
		o.abort()
		return nil, err
	}
	if sameWriter(stdout, stderr) {
		o.stderr = o.stdout // one pipe for both, as os/exec does
		return o, nil
	}
	if o.stderr, err = o.wire(hub, stderr); err != nil {
		o.abort()
		return nil, err
	}
	return o, nil
}

// wire returns what the child writes to for w: w itself when it is nil or
// a file, else the write end of a new pipe that the hub reads into w.
func (o *childOutput) wire(hub *outputHub, w io.Writer) (io.Writer, error) {
	switch w.(type) {
	case nil, *os.File:
		return w, nil
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("output pipe: %w", err)
	}
	p, err := hub.add(fds[0], w)
	if err != nil {
		_ = unix.Close(fds[0])
		_ = unix.Close(fds[1])
		return nil, err
	}
	o.pipes = append(o.pipes, p)
	wf := os.NewFile(uintptr(fds[1]), "output")
	o.writeEnds = append(o.writeEnds, wf)
	return wf, nil
}

// sameWriter reports whether a and b are the same writer; writers whose
// type cannot be compared are different.
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a != nil && a == b
}

// copies reports whether os/exec copies the child's output (a writer that
// is not a file, where there is no hub): its Cmd.Wait then waits for the
// copying goroutines.
func (o *childOutput) copies() bool {
	for _, w := range []io.Writer{o.stdout, o.stderr} {
		switch w.(type) {
		case nil, *os.File:
		default:
			return true
		}
	}
	return false
}

// started closes the host's copies of the write ends, once the child was
// forked (or failed to be): from then on the pipes reach EOF when the child
// and whatever inherited its output have closed them.
func (o *childOutput) started() {
	for _, f := range o.writeEnds {
		_ = f.Close()
	}
	o.writeEnds = nil
}

// abort closes everything (the child was not started).
func (o *childOutput) abort() {
	o.started()
	for _, p := range o.pipes {
		p.close()
	}
}

// drain waits until every pipe reached EOF, at most limit, then closes
// what is still open: only a process that left the group (setsid) while
// keeping the output open makes the limit expire.
func (o *childOutput) drain(limit time.Duration) {
	if len(o.pipes) == 0 {
		return
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	for _, p := range o.pipes {
		select {
		case <-p.done:
		case <-t.C:
			for _, p := range o.pipes {
				p.close()
			}
			return
		}
	}
}
