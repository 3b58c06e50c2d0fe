package apppool

import "time"

// A pool with workers ticks once a second (tick: idle, health, CPU and
// recycling checks). Pools tick in tickSlots slots of the wall-clock
// second, by a hash of their name: a host with hundreds of pools wakes
// tickSlots times a second, each time for a batch of pools, rather than
// once for every pool at its own moment (each wake-up of an idle host
// costs the scheduler more than a pool's checks do), and never runs every
// pool's checks in one burst.
const tickSlots = 8

// tickPhaseOf is a pool's offset into each second: its slot, by an FNV-1a
// hash of its name.
func tickPhaseOf(name string) time.Duration {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return time.Duration(h%tickSlots) * (time.Second / tickSlots)
}

// nextTick is the first time after now that is phase into a second.
func nextTick(now time.Time, phase time.Duration) time.Time {
	t := now.Add(-phase).Truncate(time.Second).Add(time.Second + phase)
	if !t.After(now) {
		t = t.Add(time.Second)
	}
	return t
}
