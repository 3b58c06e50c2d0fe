package apppool

import "time"

// cpuPolicy is a pool's CPU limit (cpu.limit in 1/1000 % of one CPU,
// cpu.resetInterval); cpu.action says what happens when it is exceeded
// (checkCPU).
type cpuPolicy struct {
	limit    int64
	interval time.Duration
}

// on reports whether the limit is checked at all.
func (pol cpuPolicy) on() bool { return pol.limit > 0 && pol.interval > 0 }

// allowed is the CPU time the pool may use per interval.
func (pol cpuPolicy) allowed() time.Duration {
	return time.Duration(float64(pol.interval) * float64(pol.limit) / 100000)
}

// cpuWindow accounts the pool's CPU time over the current interval.
type cpuWindow struct {
	start    time.Time // of the current window; zero = none yet
	used     time.Duration
	exceeded bool
}

// add accounts used CPU time at now, starting a new window when the
// interval is over, and reports whether the window has just gone over the
// limit: once per window.
func (w *cpuWindow) add(pol cpuPolicy, now time.Time, used time.Duration) bool {
	if w.start.IsZero() || now.Sub(w.start) >= pol.interval {
		*w = cpuWindow{start: now}
	}
	w.used += used
	if w.used <= pol.allowed() || w.exceeded {
		return false
	}
	w.exceeded = true
	return true
}
