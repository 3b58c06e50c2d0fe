package hostapi

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWriteCheckDoesNotLookUpPID: the operator check uses the groups the
// peer had when it connected, not those of whatever process holds its PID
// at request time. Here the PID belongs to a process in the operator group
// (as a recycled PID may) while the peer that connected was not in it.
func TestWriteCheckDoesNotLookUpPID(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("starting a process with other groups needs root")
	}
	const opGID = 4242
	cmd := exec.Command("sleep", "600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 0, Gid: 0, Groups: []uint32{opGID}}}
	if err := cmd.Start(); err != nil {
		t.Skipf("no sleep command: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	s := NewServer(ServerOptions{HostUID: 4321, OperatorGroup: opGID, OperatorName: "ops"})
	connected := Peer{PID: cmd.Process.Pid, UID: 65534, GID: 65534} // no operator group when it connected
	if err := s.authorizeWrite(connected); err == nil {
		t.Fatal("a peer outside the operator group may write because its PID now belongs to an operator's process")
	}
	member := Peer{PID: -1, UID: 65534, GID: 65534, Groups: []int{100, opGID}}
	if err := s.authorizeWrite(member); err != nil {
		t.Errorf("a peer that was in the operator group when it connected: %v", err)
	}
}

// TestPeerGroupsFromSocket: the supplementary groups come from the socket
// (SO_PEERGROUPS), taken at accept, without reading /proc.
func TestPeerGroupsFromSocket(t *testing.T) {
	reads := 0
	old := procStatus
	procStatus = func(pid int) (io.ReadCloser, error) {
		reads++
		return old(pid)
	}
	t.Cleanup(func() { procStatus = old })
	path := filepath.Join(shortDir(t), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	p, err := peerFromConn(sc)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	got := slices.Clone(p.Groups)
	slices.Sort(got)
	if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
		t.Errorf("peer groups %v, want the connecting process's %v", got, want)
	}
	if p.UID != os.Geteuid() || p.PID != os.Getpid() {
		t.Errorf("peer %+v, want uid %d pid %d", p, os.Geteuid(), os.Getpid())
	}
	if reads != 0 {
		t.Errorf("/proc was read %d times; SO_PEERGROUPS should have answered", reads)
	}
}

// TestControlConnectionLimit: past MaxConns open connections, a client
// waits until one closes.
func TestControlConnectionLimit(t *testing.T) {
	sock := testServer(t, ServerOptions{HostUID: os.Geteuid(), OperatorGroup: -1, MaxConns: 2}, -1, nil)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		held = append(held, c)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		done <- NewClient(sock).Ping(ctx)
	}()
	select {
	case err := <-done:
		t.Fatalf("a third connection was served while two were open (ping: %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	held[0].Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ping once a slot was free: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the waiting client was not served after a connection closed")
	}
}

// TestControlIdleConnectionClosed: a connection idle after its request is
// closed by the host after IdleTimeout.
func TestControlIdleConnectionClosed(t *testing.T) {
	sock := testServer(t, ServerOptions{HostUID: os.Geteuid(), OperatorGroup: -1, IdleTimeout: 100 * time.Millisecond}, -1, nil)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "GET /v1/ping HTTP/1.1\r\nHost: poolctl\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := c.SetReadDeadline(time.Now().Add(60 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := br.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("idle connection: read %v, want EOF (closed by the host)", err)
	}
}

// TestPeerGroupsProcFallback: on a kernel without SO_PEERGROUPS the groups
// are read from /proc once, when the connection is accepted; requests on
// it use those, whatever /proc says later.
func TestPeerGroupsProcFallback(t *testing.T) {
	const opGID = 4242
	oldSock, oldProc := sockGroups, procStatus
	t.Cleanup(func() { sockGroups, procStatus = oldSock, oldProc })
	sockGroups = func(int) ([]int, error) { return nil, syscall.ENOPROTOOPT }
	var mu sync.Mutex
	groups := "Groups:\t100 4242\n" // what /proc says at accept
	reads := 0
	procStatus = func(int) (io.ReadCloser, error) {
		mu.Lock()
		defer mu.Unlock()
		reads++
		return io.NopCloser(strings.NewReader("Name:\tx\n" + groups)), nil
	}
	path := filepath.Join(shortDir(t), "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pl := newPeerListener(ln, 4)
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sc, err := pl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	mu.Lock()
	groups = "Groups:\t100\n" // the PID's process no longer has the group
	mu.Unlock()
	p := sc.(*peerConn).peer
	if !slices.Equal(p.Groups, []int{100, opGID}) {
		t.Fatalf("peer groups %v, want those /proc said at accept [100 %d]", p.Groups, opGID)
	}
	p.UID, p.GID = 65534, 65534 // judge the groups alone
	s := NewServer(ServerOptions{HostUID: 4321, OperatorGroup: opGID})
	if err := s.authorizeWrite(p); err != nil {
		t.Errorf("a peer that was an operator at accept: %v", err)
	}
	if reads != 1 {
		t.Errorf("/proc read %d times, want once, at accept", reads)
	}
}
