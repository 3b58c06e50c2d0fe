package host

import (
	"net"
	"sync/atomic"
	"testing"
)

var restSink []byte

// TestReleaseAtRest: the first rest releases; a rest after less than
// releaseMin of allocations does not (a trickle of requests costs no
// collection per quiet second); one after more does.
func TestReleaseAtRest(t *testing.T) {
	frees, gc := 0, 100
	r := memRelease{free: func() { frees++ }, setGC: func(p int) int { gc, p = p, gc; return p }}
	r.atRest()
	if frees != 1 {
		t.Fatalf("first rest: %d releases, want 1", frees)
	}
	r.atRest()
	if frees != 1 {
		t.Fatalf("rest with nothing allocated: %d releases, want 1", frees)
	}
	for range 4 {
		restSink = make([]byte, releaseMin/2)
	}
	r.atRest()
	if frees != 2 {
		t.Fatalf("rest after %d bytes allocated: %d releases, want 2", 2*releaseMin, frees)
	}
}

// TestTouchListener: every accepted control connection is an activity.
func TestTouchListener(t *testing.T) {
	ln, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Fatal(err)
	}
	var touched atomic.Int32
	tl := touchListener{Listener: ln, touch: func() { touched.Add(1) }}
	defer tl.Close()
	go func() {
		if c, err := net.Dial("unix", ln.Addr().String()); err == nil {
			c.Close()
		}
	}()
	c, err := tl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, ok := c.(*net.UnixConn); !ok || touched.Load() != 1 {
		t.Errorf("Accept gave %T and touched %d times; want *net.UnixConn, 1", c, touched.Load())
	}
}

// TestRestGCTarget: at rest the GC target is restGCPercent; the first
// activity restores the host's own; a lower GOGC, or GOGC=off, is never
// raised.
func TestRestGCTarget(t *testing.T) {
	for _, own := range []int{100, 400, 25, 10, -1} {
		gc := own
		r := memRelease{free: func() {}, setGC: func(p int) int { gc, p = p, gc; return p }}
		r.atBusy() // the first activity of all: nothing to restore
		if gc != own {
			t.Fatalf("GOGC %d: first activity set %d", own, gc)
		}
		r.atRest()
		want := restGCPercent
		if own < 0 || own <= restGCPercent {
			want = own
		}
		if gc != want {
			t.Errorf("GOGC %d: at rest %d, want %d", own, gc, want)
		}
		r.atRest() // a second rest without activity between: same
		if gc != want {
			t.Errorf("GOGC %d: second rest %d, want %d", own, gc, want)
		}
		r.atBusy()
		if gc != own {
			t.Errorf("GOGC %d: busy again %d, want %d", own, gc, own)
		}
	}
}
