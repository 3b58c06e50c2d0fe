package proc

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"testing"
)

// freeRange finds n consecutive loopback ports below the kernel's
// ephemeral range that nothing listens on now.
func freeRange(t *testing.T, n int) PortRange {
	t.Helper()
	for range 100 {
		lo := 20000 + rand.IntN(10000)
		ok := true
		for p := lo; p < lo+n && ok; p++ {
			ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
			if err != nil {
				ok = false
				continue
			}
			ln.Close()
		}
		if ok {
			return PortRange{Lo: lo, Hi: lo + n - 1}
		}
	}
	t.Fatal("no free range of ports")
	return PortRange{}
}

// TestPortsRange: with --worker-ports set, every port comes from the
// range, none twice while leased; a full range refuses with ErrNoPort and
// a released port is handed out again.
func TestPortsRange(t *testing.T) {
	var ps Ports
	r := freeRange(t, 4)
	ps.SetRange(r)
	seen := map[int]bool{}
	var leases []*Lease
	for range 4 {
		l, err := ps.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		if l.Port < r.Lo || l.Port > r.Hi || seen[l.Port] {
			t.Fatalf("port %d: outside %s or handed out twice (%v)", l.Port, r, seen)
		}
		seen[l.Port] = true
		leases = append(leases, l)
	}
	if l, err := ps.Reserve(); !errors.Is(err, ErrNoPort) {
		t.Fatalf("a fifth port from a range of four: %v, %v; want ErrNoPort", l, err)
	}
	leases[2].Release()
	l, err := ps.Listen()
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if l.Port != leases[2].Port || l.Listener == nil {
		t.Fatalf("after a release got port %d (listener %v), want %d with a listener", l.Port, l.Listener, leases[2].Port)
	}
}

// TestPortsRangeSkipsBusy: a port of the range that another program
// listens on is never handed out.
func TestPortsRangeSkipsBusy(t *testing.T) {
	var ps Ports
	r := freeRange(t, 3)
	busy, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", r.Lo+1))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	ps.SetRange(r)
	for range 2 {
		l, err := ps.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		if l.Port == r.Lo+1 {
			t.Fatalf("handed out port %d, which another program listens on", l.Port)
		}
	}
	if _, err := ps.Reserve(); !errors.Is(err, ErrNoPort) {
		t.Fatalf("third port of a range with one busy: %v, want ErrNoPort", err)
	}
	if ps.Held(r.Lo + 1) {
		t.Fatal("the busy port stayed leased after its bind failed")
	}
}

func TestParsePortRange(t *testing.T) {
	good := map[string]PortRange{"20000-20999": {20000, 20999}, "1024-1024": {1024, 1024}, "60000-65535": {60000, 65535}}
	for s, want := range good {
		if got, err := ParsePortRange(s); err != nil || got != want {
			t.Errorf("ParsePortRange(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "20000", "20000-", "-20000", "a-b", "1000-2000", "30000-20000", "60000-70000", "20000-20999-21000", " 20000-20999"} {
		if r, err := ParsePortRange(s); err == nil {
			t.Errorf("ParsePortRange(%q) = %v, want an error", s, r)
		}
	}
}

// TestEphemeralRange: the kernel's range reads as a valid one.
func TestEphemeralRange(t *testing.T) {
	r, ok := EphemeralRange()
	if !ok {
		t.Skip("net.ipv4.ip_local_port_range cannot be read here")
	}
	if r.Lo < 1 || r.Lo > r.Hi || r.Hi > 65535 {
		t.Fatalf("ephemeral range %s", r)
	}
}
