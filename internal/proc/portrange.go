package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// PortRange is an inclusive range of loopback ports workers get their
// $PORT from (poolctl host --worker-ports). The zero value means the
// kernel's choice: a free port of its ephemeral range.
type PortRange struct {
	Lo, Hi int
}

// IsZero reports whether r leaves the choice to the kernel.
func (r PortRange) IsZero() bool { return r.Lo == 0 && r.Hi == 0 }

// Size is the number of ports in r.
func (r PortRange) Size() int {
	if r.IsZero() {
		return 0
	}
	return r.Hi - r.Lo + 1
}

// String is r as ParsePortRange reads it.
func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.Lo, r.Hi) }

// EphemeralRange reads the kernel's ephemeral port range
// (net.ipv4.ip_local_port_range); ok is false when it cannot be read.
func EphemeralRange() (r PortRange, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return PortRange{}, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return PortRange{}, false
	}
	lo, errL := strconv.Atoi(f[0])
	hi, errH := strconv.Atoi(f[1])
	if errL != nil || errH != nil {
		return PortRange{}, false
	}
	return PortRange{Lo: lo, Hi: hi}, true
}

// ParsePortRange reads "LO-HI": 1024 <= LO <= HI <= 65535.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(s, "-")
	if !ok {
		return PortRange{}, fmt.Errorf("%q: expected LOW-HIGH, for example 20000-20999", s)
	}
	l, errL := strconv.Atoi(lo)
	h, errH := strconv.Atoi(hi)
	if errL != nil || errH != nil {
		return PortRange{}, fmt.Errorf("%q: expected two port numbers LOW-HIGH, for example 20000-20999", s)
	}
	if l < 1024 || h > 65535 || l > h {
		return PortRange{}, fmt.Errorf("%q: expected 1024 <= LOW <= HIGH <= 65535", s)
	}
	return PortRange{Lo: l, Hi: h}, nil
}
