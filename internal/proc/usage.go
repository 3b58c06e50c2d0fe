package proc

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// clockTicks is the unit of utime and stime in /proc/<pid>/stat:
// sysconf(_SC_CLK_TCK), the kernel's USER_HZ, which is 100 on every Linux
// architecture (the kernel scales its internal HZ to it for user space).
const clockTicks = 100

// Usage is a sample of a process's resource use from /proc.
type Usage struct {
	// PrivateKB is the private memory in KiB: anonymous memory, resident
	// (RssAnon) or swapped out (VmSwap). It is the Linux counterpart of
	// IIS's private bytes, which counts committed private memory wherever
	// it lives. Shared memory (RssShmem: tmpfs, System V and shared
	// anonymous mappings) and file-backed pages are left out, as IIS leaves
	// out shared sections and mapped images.
	PrivateKB uint64
	// VirtualKB is the size of the address space in KiB (VmSize), the
	// counterpart of IIS's virtual bytes.
	VirtualKB uint64
	// CPU is the user plus system CPU time consumed so far (utime+stime).
	CPU time.Duration
	// Threads is the number of threads.
	Threads int
}

// add adds u2 to u.
func (u *Usage) add(u2 Usage) {
	u.PrivateKB += u2.PrivateKB
	u.VirtualKB += u2.VirtualKB
	u.CPU += u2.CPU
	u.Threads += u2.Threads
}

// Sample reads /proc/<pid>/status and /proc/<pid>/stat. PrivateKB is
// RssAnon+VmSwap and VirtualKB is VmSize (both 0 for a zombie, whose memory
// is gone); CPU is utime+stime converted at 100 ticks a second; Threads is
// num_threads. An error for a process that does not exist wraps
// fs.ErrNotExist. It creates no garbage (a [Sampler] from a pool).
func Sample(pid int) (Usage, error) {
	s := getSampler()
	defer putSampler(s)
	return s.Sample(pid)
}

// GroupUsage sums Sample over every process in the process group pgid (found
// by scanning field 5 of /proc/*/stat), so children of a worker count too.
// Processes that end during the scan are skipped. If the group has no
// process, the error wraps fs.ErrNotExist.
func GroupUsage(pgid int) (Usage, error) {
	s := getSampler()
	defer putSampler(s)
	return s.GroupUsage(pgid)
}

// GroupUsageOf is GroupUsage over the given pids only (for example a
// worker's cgroup.procs), without a scan of /proc: the pids in process
// group pgid are sampled and summed, the others and those that ended are
// skipped. Without a member the error wraps fs.ErrNotExist.
func GroupUsageOf(pgid int, pids []int) (Usage, error) {
	s := getSampler()
	defer putSampler(s)
	return s.GroupUsageOf(pgid, pids)
}

// ticksToDuration converts clock ticks to a duration.
func ticksToDuration(ticks uint64) time.Duration {
	return time.Duration(ticks) * (time.Second / clockTicks)
}

// errVanished reports a /proc file that read as empty: the kernel returns
// nothing (or ESRCH) for a process that is being torn down.
var errVanished = errors.New("process vanished")

// stat holds the fields of /proc/<pid>/stat that the package uses.
type stat struct {
	state        byte
	ppid, pgrp   int
	utime, stime uint64
	threads      int
	starttime    uint64
}

// readStat reads and parses /proc/<pid>/stat.
func readStat(pid int) (stat, error) {
	s := getSampler()
	defer putSampler(s)
	return s.readStat(pid)
}

// parseStat parses a /proc/<pid>/stat line. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so the fields
// are split after the last ')'. It allocates nothing on a well-formed line
// (the sampler parses its buffer in place).
func parseStat(line string) (stat, error) {
	if strings.TrimSpace(line) == "" {
		return stat{}, errVanished
	}
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return stat{}, fmt.Errorf("malformed stat line %q: no ')'", line)
	}
	const last = 22 // starttime: the last field read (proc(5) numbering)
	var st stat
	rest := line[end+1:]
	field := 2 // the command name; the fields after it are numbered from 3
	for field < last {
		f, tail, ok := nextField(rest)
		if !ok {
			return stat{}, fmt.Errorf("malformed stat line %q: %d fields after the command name, want at least %d", line, field-2, last-2)
		}
		rest = tail
		field++
		var err error
		switch field {
		case 3:
			if len(f) != 1 {
				return stat{}, fmt.Errorf("malformed stat line %q: state %q", line, f)
			}
			st.state = f[0]
		case 4:
			st.ppid, err = strconv.Atoi(f)
		case 5:
			st.pgrp, err = strconv.Atoi(f)
		case 20:
			st.threads, err = strconv.Atoi(f)
		case 14:
			st.utime, err = strconv.ParseUint(f, 10, 64)
		case 15:
			st.stime, err = strconv.ParseUint(f, 10, 64)
		case 22:
			st.starttime, err = strconv.ParseUint(f, 10, 64)
		}
		if err != nil {
			return stat{}, fmt.Errorf("malformed stat line: field %d: %w", field, err)
		}
	}
	return st, nil
}

// nextField returns the first field of s separated by white space (as
// strings.Fields splits: space, tab, newline ...), and what follows it.
func nextField(s string) (field, rest string, ok bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i == len(s) {
		return "", "", false
	}
	j := i
	for j < len(s) && !isSpace(s[j]) {
		j++
	}
	return s[i:j], s[j:], true
}

// isSpace reports whether b is ASCII white space, as strings.Fields has it
// (the kernel writes ASCII).
func isSpace(b byte) bool {
	switch b {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// statusMem holds the memory lines of /proc/<pid>/status, in KiB.
type statusMem struct {
	rssAnonKB, swapKB, vmSizeKB uint64
}

// parseStatus parses the memory lines of /proc/<pid>/status. Lines that are
// absent (as for zombies and kernel threads) count as 0.
func parseStatus(text string) (statusMem, error) {
	if strings.TrimSpace(text) == "" {
		return statusMem{}, errVanished
	}
	var m statusMem
	for rest := text; rest != ""; {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch key {
		case "RssAnon":
			dst = &m.rssAnonKB
		case "VmSwap":
			dst = &m.swapKB
		case "VmSize":
			dst = &m.vmSizeKB
		default:
			continue
		}
		num, unit, _ := strings.Cut(strings.TrimSpace(value), " ")
		if unit != "kB" {
			return statusMem{}, fmt.Errorf("malformed status line %q: unit %q, want kB", line, unit)
		}
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return statusMem{}, fmt.Errorf("malformed status line %q: %w", line, err)
		}
		*dst = v
	}
	return m, nil
}
