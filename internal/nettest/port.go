package nettest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"testing"

	"github.com/poolctl/poolctl/internal/proc"
)

// The tests' ports: FreePort draws from [testPortsLo, workerPortsLo), and
// the hosts the tests start give their workers ports from workerPortsLo up
// to the kernel's ephemeral range (WorkerPorts), so that neither the
// client side of the tests' many connections nor a test's own listener
// can take a port a host reserved for a worker before the worker binds it.
const (
	testPortsLo   = 10000
	workerPortsLo = 20000
)

// WorkerPorts is the --worker-ports range for hosts started by tests:
// from 20000 to just below the kernel's ephemeral range.
func WorkerPorts() string {
	return fmt.Sprintf("%d-%d", workerPortsLo, max(ephemeralLow()-1, workerPortsLo+999))
}

// Ports handed out by FreePort in this process, so that two tests running
// in parallel never get the same one.
var (
	portsMu sync.Mutex
	ports   = map[int]bool{}
)

// FreePort returns a loopback TCP port that nothing listens on, for a
// listener the test (or a process it starts) opens later.
//
// A port that is free now can be taken before it is listened on. Two
// things keep that rare: the port is drawn at random below the kernel's
// ephemeral range (ip_local_port_range), so neither the client side of a
// connection nor a listener on port 0 anywhere on the machine can take
// it; and it is never handed out twice by one test process. Only another
// test process drawing the same port at the same moment remains; a caller
// that can start again on fresh ports (see etcdtest) does so. The range
// leaves the ports of WorkerPorts to the hosts' workers.
func FreePort(t testing.TB) int {
	t.Helper()
	portsMu.Lock()
	defer portsMu.Unlock()
	lo, hi := testPortsLo, min(workerPortsLo, ephemeralLow())
	for range 200 {
		if hi-lo < 1000 {
			break
		}
		p := lo + rand.IntN(hi-lo)
		if ports[p] || !free(p) {
			continue
		}
		ports[p] = true
		return p
	}
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		if !ports[p] {
			ports[p] = true
			return p
		}
	}
	t.Fatal("no free loopback port")
	return 0
}

// free reports whether 127.0.0.1:p can be listened on now.
func free(p int) bool {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

// ephemeralLow is the first port of the kernel's ephemeral range (32768
// when it cannot be read).
func ephemeralLow() int {
	if r, ok := proc.EphemeralRange(); ok {
		return r.Lo
	}
	return 32768
}
