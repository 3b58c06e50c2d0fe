package epollset

import (
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestWaitReportsReadyPipe: Wait parks until a registered pipe has data,
// reports it with its data field, and returns an error once the set is
// closed.
func TestWaitReportsReadyPipe(t *testing.T) {
	s, err := New("test-set")
	if err != nil {
		t.Skipf("no epoll here: %v", err)
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if err := s.Add(p[0], unix.EpollEvent{Events: unix.EPOLLIN, Fd: 7, Pad: 9}); err != nil {
		t.Fatal(err)
	}
	got := make(chan unix.EpollEvent, 1)
	waitErr := make(chan error, 1)
	go func() {
		ev := make([]unix.EpollEvent, 4)
		n, err := s.Wait(ev)
		if err != nil {
			waitErr <- err
			return
		}
		var b [1]byte
		_, _ = unix.Read(p[0], b[:]) // drained: the level-triggered set has nothing more
		got <- ev[n-1]
		_, err = s.Wait(ev) // parks again: nothing new until the close
		waitErr <- err
	}()
	select {
	case ev := <-got:
		t.Fatalf("Wait returned %+v before anything was written", ev)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := unix.Write(p[1], []byte("x")); err != nil {
		t.Fatal(err)
	}
	var ev unix.EpollEvent
	select {
	case ev = <-got:
	case err := <-waitErr:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not report the readable pipe")
	}
	if ev.Events&unix.EPOLLIN == 0 || ev.Fd != 7 || ev.Pad != 9 {
		t.Errorf("event %+v, want EPOLLIN with data 7/9", ev)
	}
	if err := s.Delete(p[0]); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waitErr:
		if err == nil {
			t.Error("Wait on a closed set returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not end when the set was closed")
	}
}
