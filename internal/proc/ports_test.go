package proc

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

// TestPortsNoDuplicates: 300 rounds of 16 concurrent picks, each holding
// its lease until the round ends, never get the same port twice (the old
// listen-close-return picker did, a few times per 300 rounds).
func TestPortsNoDuplicates(t *testing.T) {
	t.Parallel()
	var ps Ports
	for round := range 300 {
		leases := make([]*Lease, 16)
		errs := make([]error, 16)
		var wg sync.WaitGroup
		for i := range leases {
			wg.Go(func() { leases[i], errs[i] = ps.Reserve() })
		}
		wg.Wait()
		seen := map[int]bool{}
		for i, l := range leases {
			if errs[i] != nil {
				t.Fatalf("round %d: %v", round, errs[i])
			}
			if seen[l.Port] {
				t.Fatalf("round %d: port %d handed out twice", round, l.Port)
			}
			seen[l.Port] = true
		}
		for _, l := range leases {
			l.Release()
		}
	}
}

// TestPortsLeaseLifecycle: a held port is never offered again, and comes
// back after Release; a Listen lease hands over a working listener.
func TestPortsLeaseLifecycle(t *testing.T) {
	t.Parallel()
	var ps Ports
	a, err := ps.Listen()
	if err != nil {
		t.Fatal(err)
	}
	if !ps.Held(a.Port) || a.Listener == nil {
		t.Fatalf("Listen lease %d: held %v, listener %v", a.Port, ps.Held(a.Port), a.Listener)
	}
	f, err := a.File()
	if err != nil {
		t.Fatal(err)
	}
	a.CloseListener()
	// The duplicate still listens: a child would accept on it.
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(a.Port))
	if err != nil {
		t.Fatalf("dial the inherited listener: %v", err)
	}
	c.Close()
	ln.Close()
	if !ps.Held(a.Port) {
		t.Fatal("closing the host's listener released the port")
	}
	a.Release()
	a.Release()
	if ps.Held(a.Port) {
		t.Fatal("Release did not release the port")
	}
	r, err := ps.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	if r.Listener != nil {
		t.Fatal("Reserve kept a listener")
	}
	if _, err := r.File(); err == nil {
		t.Fatal("File of a Reserve lease succeeded")
	}
	// The reserved port was verified free: it can be bound now.
	ln2, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(r.Port))
	if err != nil {
		t.Fatalf("listen on the reserved port: %v", err)
	}
	ln2.Close()
	var nilLease *Lease
	nilLease.Release()
}
