package proc

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
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
// fs.ErrNotExist.
func Sample(pid int) (Usage, error) {
	st, err := readStat(pid)
	if err != nil {
		return Usage{}, err
	}
	return sampleWith(pid, st)
}

// sampleWith completes a sample from an already parsed stat line.
func sampleWith(pid int, st stat) (Usage, error) {
	data, err := readProcFile(pid, "status")
	if err != nil {
		return Usage{}, fmt.Errorf("sample process %d: %w", pid, err)
	}
	mem, err := parseStatus(string(data))
	if err != nil {
		return Usage{}, fmt.Errorf("sample process %d: %w", pid, err)
	}
	return Usage{
		PrivateKB: mem.rssAnonKB + mem.swapKB,
		VirtualKB: mem.vmSizeKB,
		CPU:       ticksToDuration(st.utime + st.stime),
		Threads:   st.threads,
	}, nil
}

// GroupUsage sums Sample over every process in the process group pgid (found
// by scanning field 5 of /proc/*/stat), so children of a worker count too.
// Processes that end during the scan are skipped. If the group has no
// process, the error wraps fs.ErrNotExist.
func GroupUsage(pgid int) (Usage, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return Usage{}, fmt.Errorf("group usage %d: %w", pgid, err)
	}
	pids := make([]int, 0, len(entries))
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid) // a process directory
		}
	}
	total, members, err := sumGroup(pgid, pids)
	if err == nil && members == 0 {
		err = fmt.Errorf("group usage %d: no process in the group: %w", pgid, fs.ErrNotExist)
	}
	return total, err
}

// GroupUsageOf is GroupUsage over the given pids only (for example a
// worker's cgroup.procs), without a scan of /proc: the pids in process
// group pgid are sampled and summed, the others and those that ended are
// skipped. Without a member the error wraps fs.ErrNotExist.
func GroupUsageOf(pgid int, pids []int) (Usage, error) {
	total, members, err := sumGroup(pgid, pids)
	if err == nil && members == 0 {
		err = fmt.Errorf("group usage %d: no process of the group among %d pids: %w", pgid, len(pids), fs.ErrNotExist)
	}
	return total, err
}

// sumGroup sums Sample over the pids in process group pgid, skipping the
// others and those that end meanwhile, and says how many it summed.
func sumGroup(pgid int, pids []int) (Usage, int, error) {
	var total Usage
	members := 0
	for _, pid := range pids {
		st, err := readStat(pid)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errVanished) {
				continue // ended since it was listed
			}
			return Usage{}, 0, fmt.Errorf("group usage %d: %w", pgid, err)
		}
		if st.pgrp != pgid {
			continue
		}
		u, err := sampleWith(pid, st)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errVanished) {
				continue
			}
			return Usage{}, 0, fmt.Errorf("group usage %d: %w", pgid, err)
		}
		total.add(u)
		members++
	}
	return total, members, nil
}

// ticksToDuration converts clock ticks to a duration.
func ticksToDuration(ticks uint64) time.Duration {
	return time.Duration(ticks) * (time.Second / clockTicks)
}

// errVanished reports a /proc file that read as empty: the kernel returns
// nothing (or ESRCH) for a process that is being torn down.
var errVanished = errors.New("process vanished")

// readProcFile reads /proc/<pid>/<name>. A process being torn down can make
// the read fail with ESRCH; that error wraps errVanished.
func readProcFile(pid int, name string) ([]byte, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, name))
	if errors.Is(err, syscall.ESRCH) {
		return nil, fmt.Errorf("%w: %w", errVanished, err)
	}
	return data, err
}

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
	data, err := readProcFile(pid, "stat")
	if err != nil {
		return stat{}, fmt.Errorf("read stat of process %d: %w", pid, err)
	}
	st, err := parseStat(string(data))
	if err != nil {
		return stat{}, fmt.Errorf("read stat of process %d: %w", pid, err)
	}
	return st, nil
}

// parseStat parses a /proc/<pid>/stat line. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so the fields
// are split after the last ')'.
func parseStat(line string) (stat, error) {
	if strings.TrimSpace(line) == "" {
		return stat{}, errVanished
	}
	end := strings.LastIndexByte(line, ')')
	if end < 0 {
		return stat{}, fmt.Errorf("malformed stat line %q: no ')'", line)
	}
	// fields[0] is field 3 (state) of proc(5); field n is fields[n-3].
	fields := strings.Fields(line[end+1:])
	const need = 22 - 3 + 1 // up to starttime, field 22
	if len(fields) < need {
		return stat{}, fmt.Errorf("malformed stat line %q: %d fields after the command name, want at least %d", line, len(fields), need)
	}
	var st stat
	if len(fields[0]) != 1 {
		return stat{}, fmt.Errorf("malformed stat line %q: state %q", line, fields[0])
	}
	st.state = fields[0][0]
	ints := []struct {
		field int
		dst   *int
	}{{4, &st.ppid}, {5, &st.pgrp}, {20, &st.threads}}
	for _, f := range ints {
		v, err := strconv.Atoi(fields[f.field-3])
		if err != nil {
			return stat{}, fmt.Errorf("malformed stat line: field %d: %w", f.field, err)
		}
		*f.dst = v
	}
	uints := []struct {
		field int
		dst   *uint64
	}{{14, &st.utime}, {15, &st.stime}, {22, &st.starttime}}
	for _, f := range uints {
		v, err := strconv.ParseUint(fields[f.field-3], 10, 64)
		if err != nil {
			return stat{}, fmt.Errorf("malformed stat line: field %d: %w", f.field, err)
		}
		*f.dst = v
	}
	return st, nil
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
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
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
			return statusMem{}, fmt.Errorf("malformed status line %q: unit %q, want kB", sc.Text(), unit)
		}
		v, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return statusMem{}, fmt.Errorf("malformed status line %q: %w", sc.Text(), err)
		}
		*dst = v
	}
	if err := sc.Err(); err != nil {
		return statusMem{}, fmt.Errorf("read status: %w", err)
	}
	return m, nil
}
