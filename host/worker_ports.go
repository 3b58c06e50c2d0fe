package host

import (
	"log/slog"
	"os"
	"strconv"
	"strings"

	"github.com/poolctl/poolctl/internal/proc"
)

// applyWorkerPorts makes workers take their $PORT from r (--worker-ports),
// and warns when r overlaps the kernel's ephemeral range without being
// reserved: there, an outgoing connection of any process may take a port
// between the host's reservation and the worker's bind.
func applyWorkerPorts(r proc.PortRange, logger *slog.Logger) {
	proc.HostPorts.SetRange(r)
	if r.IsZero() {
		return
	}
	lo, hi, ok := ephemeralRange()
	if ok && r.Lo <= hi && r.Hi >= lo && !reservedPorts(r) {
		logger.Warn("--worker-ports overlaps the kernel's ephemeral port range: reserve it so that outgoing connections never take a worker's port",
			"worker_ports", r.String(), "ephemeral", strconv.Itoa(lo)+"-"+strconv.Itoa(hi),
			"fix", "sysctl -w net.ipv4.ip_local_reserved_ports="+r.String())
	}
	logger.Info("worker ports", "range", r.String(), "ports", r.Size())
}

// ephemeralRange reads net.ipv4.ip_local_port_range.
func ephemeralRange() (lo, hi int, ok bool) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, false
	}
	lo, errL := strconv.Atoi(f[0])
	hi, errH := strconv.Atoi(f[1])
	return lo, hi, errL == nil && errH == nil
}

// reservedPorts reports whether net.ipv4.ip_local_reserved_ports covers
// the whole of r (a comma-separated list of ports and LO-HI ranges).
func reservedPorts(r proc.PortRange) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_reserved_ports")
	if err != nil {
		return false
	}
	return coversRange(strings.TrimSpace(string(b)), r)
}

// coversRange reports whether list (ip_local_reserved_ports' syntax)
// covers every port of r.
func coversRange(list string, r proc.PortRange) bool {
	covered := make([]bool, r.Size())
	for item := range strings.SplitSeq(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(item, "-")
		if !isRange {
			hi = lo
		}
		l, errL := strconv.Atoi(lo)
		h, errH := strconv.Atoi(hi)
		if errL != nil || errH != nil {
			continue
		}
		for p := max(l, r.Lo); p <= min(h, r.Hi); p++ {
			covered[p-r.Lo] = true
		}
	}
	for _, c := range covered {
		if !c {
			return false
		}
	}
	return true
}
