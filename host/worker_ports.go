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
	eph, ok := proc.EphemeralRange()
	if ok && r.Lo <= eph.Hi && r.Hi >= eph.Lo && !reservedPorts(r) {
		logger.Warn("--worker-ports overlaps the kernel's ephemeral port range: reserve it so that outgoing connections never take a worker's port",
			"worker_ports", r.String(), "ephemeral", eph.String(),
			"fix", "sysctl -w net.ipv4.ip_local_reserved_ports="+r.String())
	}
	logger.Info("worker ports", "range", r.String(), "ports", r.Size())
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
