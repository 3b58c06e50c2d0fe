package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestWaitReadyRefusesForeignListener: while another process (here the
// test itself) listens on the worker's port and answers every request with
// 200, the worker is not ready: the error says the listener is not its
// own, and nothing is sent to the foreign listener.
func TestWaitReadyRefusesForeignListener(t *testing.T) {
	t.Parallel()
	port := reservePort(t)
	p, _ := startSleeper(t) // never listens
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { asked.Add(1) })}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	addr := ln.Addr().String()
	for _, pingPath := range []string{"", "/health", TCPCheck} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := p.WaitReady(ctx, addr, pingPath)
		cancel()
		if !errors.Is(err, ErrNotReady) || !errors.Is(err, ErrNotOwner) {
			t.Errorf("pingPath %q: WaitReady with a foreign listener = %v, want ErrNotReady and ErrNotOwner", pingPath, err)
		}
		if err != nil && !strings.Contains(err.Error(), "uid "+strconv.Itoa(os.Geteuid())) {
			t.Errorf("pingPath %q: error %q does not name the listener's uid", pingPath, err)
		}
	}
	if n := asked.Load(); n != 0 {
		t.Errorf("the foreign listener was asked %d times", n)
	}
}

// TestWaitReadyOwnListener: a worker's own listener, and the listener of a
// child in its process group, make it ready.
func TestWaitReadyOwnListener(t *testing.T) {
	t.Parallel()
	port := reservePort(t)
	p, _ := startSleeper(t, "-listen", strconv.Itoa(port), "-listen-delay", "100ms")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitReady(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), "/health"); err != nil {
		t.Fatalf("WaitReady: %v", err)
	}

	// A shell that runs the listener as its child (no exec).
	port2 := reservePort(t)
	sh, err := Start(Spec{Path: "/bin/sh", Args: []string{"-c", sleeper(t) + " -listen " + strconv.Itoa(port2) + "; exit 0"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = sh.Stop(context.Background(), 0) })
	if err := sh.WaitReady(ctx, net.JoinHostPort("127.0.0.1", strconv.Itoa(port2)), ""); err != nil {
		t.Fatalf("WaitReady of a listener in the group: %v", err)
	}
}

func TestParseNetTCP(t *testing.T) {
	t.Parallel()
	const tcp = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:A167 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65601        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:A167 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:A167 0100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 100 0 0 10 0
   3: 0200007F:A167 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 444 1 0000000000000000 100 0 0 10 0
   4: 0100007F:A168 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 555 1 0000000000000000 100 0 0 10 0
   5: garbage
`
	got, err := parseNetTCP(strings.NewReader(tcp), 0xA167)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (listener{inode: 111, uid: 65601}) || got[1] != (listener{inode: 222}) {
		t.Errorf("tcp listeners = %+v, want inodes 111 (uid 65601) and 222", got)
	}
	const tcp6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:A167 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 666 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:A167 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 777 1 0000000000000000 100 0 0 10 0
   2: 00000000000000000000000001000000:A167 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 888 1 0000000000000000 100 0 0 10 0
`
	got, err = parseNetTCP(strings.NewReader(tcp6), 0xA167)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].inode != 666 || got[1].inode != 777 {
		t.Errorf("tcp6 listeners = %+v, want inodes 666 ([::]) and 777 (::ffff:127.0.0.1), not ::1", got)
	}
}

func FuzzParseNetTCP(f *testing.F) {
	f.Add("hdr\n 0: 0100007F:A167 00000000:0000 0A 0 0 0 1 0 9 1\n", 0xA167)
	f.Add("hdr\n 0: 0000000000000000FFFF00000100007F:0050 x 0A a b c 0 0 1\n", 80)
	f.Add("hdr\n 0: zz:zz x 0A\n", 1)
	f.Fuzz(func(t *testing.T, s string, port int) {
		ls, err := parseNetTCP(strings.NewReader(s), port)
		if err != nil && ls != nil {
			t.Fatalf("error %v with listeners %v", err, ls)
		}
	})
}

// TestListenersDiagMatchesProc: the sock_diag dump and /proc/net/tcp{,6}
// report the same listeners of a port (IPv4 loopback and IPv6 wildcard),
// and none of a port nothing listens on.
func TestListenersDiagMatchesProc(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, p := range []int{port, closedPort(t)} {
		diag, err := listenersDiag(p)
		if err != nil {
			t.Skipf("no sock_diag here: %v", err)
		}
		fromProc, err := listenersProc(p)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(diag) != fmt.Sprint(fromProc) {
			t.Errorf("port %d: sock_diag %v, /proc %v", p, diag, fromProc)
		}
		if want := map[bool]int{true: 1, false: 0}[p == port]; len(diag) != want {
			t.Errorf("port %d: %d listeners %v, want %d", p, len(diag), diag, want)
		}
	}
	ln6, err := net.Listen("tcp6", "[::]:0")
	if err != nil {
		t.Skipf("no IPv6: %v", err)
	}
	defer ln6.Close()
	p6 := ln6.Addr().(*net.TCPAddr).Port
	diag, err := listenersDiag(p6)
	if err != nil || len(diag) != 1 {
		t.Errorf("[::]:%d: sock_diag %v, %v; want one listener", p6, diag, err)
	}
	if fromProc, _ := listenersProc(p6); fmt.Sprint(diag) != fmt.Sprint(fromProc) {
		t.Errorf("[::]:%d: sock_diag %v, /proc %v", p6, diag, fromProc)
	}
}

func FuzzParseDiagMsg(f *testing.F) {
	msg := make([]byte, inetDiagMsgLen)
	msg[0], msg[1], msg[4], msg[5] = 2, tcpListenState, 0x1f, 0x90
	f.Add(msg, 8080)
	f.Add(msg[:10], 8080)
	f.Fuzz(func(t *testing.T, d []byte, port int) {
		if l, ok := parseDiagMsg(d, port); ok && len(d) < inetDiagMsgLen {
			t.Fatalf("a short message gave %v", l)
		}
	})
}
