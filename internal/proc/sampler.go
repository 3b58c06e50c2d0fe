package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Sampler samples processes from /proc with buffers of its own, reused by
// every sample, so that sampling hundreds of workers every second creates
// no garbage: the files are read with raw system calls into the buffer and
// parsed in place. A Sampler is not safe for concurrent use; the package's
// functions ([Sample], [GroupUsage], [GroupUsageOf]) take one from a pool.
type Sampler struct {
	buf  []byte // the file read last
	path []byte // the NUL-terminated path opened last
	ents []byte // directory entries of /proc (GroupUsage)
}

// Bounds of a Sampler's buffers.
const (
	samplerBufStart = 4 << 10
	samplerBufMax   = 1 << 20 // a status file is about 1.5 KB; stat under 1 KB
	direntBufSize   = 8 << 10
)

var samplers = sync.Pool{New: func() any { return new(Sampler) }}

func getSampler() *Sampler  { return samplers.Get().(*Sampler) }
func putSampler(s *Sampler) { samplers.Put(s) }

// Sample is the package's [Sample] with s's buffers.
func (s *Sampler) Sample(pid int) (Usage, error) {
	st, err := s.readStat(pid)
	if err != nil {
		return Usage{}, err
	}
	return s.sampleWith(pid, st)
}

// GroupUsage is the package's [GroupUsage] with s's buffers: the pids
// come from /proc's directory entries, read into s.ents.
func (s *Sampler) GroupUsage(pgid int) (Usage, error) {
	fd, err := s.open("/proc", -1, "", unix.O_DIRECTORY)
	if err != nil {
		return Usage{}, fmt.Errorf("group usage %d: %w", pgid, err)
	}
	defer unix.Close(fd)
	if s.ents == nil {
		s.ents = make([]byte, direntBufSize)
	}
	var total Usage
	members, seen := 0, 0
	for seen < maxProcs {
		n, err := unix.Getdents(fd, s.ents)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return Usage{}, fmt.Errorf("group usage %d: read /proc: %w", pgid, err)
		}
		if n <= 0 {
			break
		}
		for b := s.ents[:n]; len(b) > 0; {
			pid, reclen, ok := direntPid(b)
			if reclen == 0 {
				break // malformed: never from the kernel
			}
			b = b[min(reclen, len(b)):]
			seen++
			if !ok {
				continue
			}
			if err := s.addMember(&total, &members, pgid, pid); err != nil {
				return Usage{}, err
			}
		}
	}
	if members == 0 {
		return Usage{}, fmt.Errorf("group usage %d: no process in the group: %w", pgid, fs.ErrNotExist)
	}
	return total, nil
}

// direntPid reads one struct linux_dirent64 at the start of b: the length
// of the record (0 when b does not hold one) and the pid it names, if its
// name is a decimal number (a process directory).
func direntPid(b []byte) (pid, reclen int, ok bool) {
	const nameOff = 19 // d_ino 8, d_off 8, d_reclen 2, d_type 1
	if len(b) < nameOff+1 {
		return 0, 0, false
	}
	reclen = int(binary.NativeEndian.Uint16(b[16:18]))
	if reclen < nameOff+1 || reclen > len(b) {
		return 0, 0, false
	}
	name := b[nameOff:reclen]
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	if len(name) == 0 || len(name) > 9 {
		return 0, reclen, false
	}
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, reclen, false
		}
		pid = pid*10 + int(c-'0')
	}
	return pid, reclen, pid > 0
}

// GroupUsageOf is the package's [GroupUsageOf] with s's buffers.
func (s *Sampler) GroupUsageOf(pgid int, pids []int) (Usage, error) {
	var total Usage
	members := 0
	for _, pid := range pids {
		if err := s.addMember(&total, &members, pgid, pid); err != nil {
			return Usage{}, err
		}
	}
	if members == 0 {
		return Usage{}, fmt.Errorf("group usage %d: no process of the group among %d pids: %w", pgid, len(pids), fs.ErrNotExist)
	}
	return total, nil
}

// member samples pid when it is in process group pgid; a process that
// ended meanwhile is not a member.
func (s *Sampler) member(pgid, pid int) (Usage, bool, error) {
	st, err := s.readStat(pid)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errVanished) {
			return Usage{}, false, nil // ended since it was listed
		}
		return Usage{}, false, fmt.Errorf("group usage %d: %w", pgid, err)
	}
	if st.pgrp != pgid {
		return Usage{}, false, nil
	}
	u, err := s.sampleWith(pid, st)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errVanished) {
			return Usage{}, false, nil
		}
		return Usage{}, false, fmt.Errorf("group usage %d: %w", pgid, err)
	}
	return u, true, nil
}

// sampleWith completes a sample from an already parsed stat line.
func (s *Sampler) sampleWith(pid int, st stat) (Usage, error) {
	data, err := s.readProcFile(pid, "status")
	if err != nil {
		return Usage{}, fmt.Errorf("sample process %d: %w", pid, err)
	}
	mem, err := parseStatus(data)
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

// readStat reads and parses /proc/<pid>/stat.
func (s *Sampler) readStat(pid int) (stat, error) {
	data, err := s.readProcFile(pid, "stat")
	if err != nil {
		return stat{}, fmt.Errorf("read stat of process %d: %w", pid, err)
	}
	st, err := parseStat(data)
	if err != nil {
		return stat{}, fmt.Errorf("read stat of process %d: %w", pid, err)
	}
	return st, nil
}

// readProcFile reads /proc/<pid>/<name> into s.buf and returns it as a
// string that aliases the buffer: valid until the next read, so callers
// parse it at once and keep nothing of it. A process being torn down can
// make the read fail with ESRCH; that error wraps errVanished. A missing
// process wraps fs.ErrNotExist.
func (s *Sampler) readProcFile(pid int, name string) (string, error) {
	fd, err := s.open("/proc/", pid, name, 0)
	if err != nil {
		return "", procFileError(pid, name, err)
	}
	defer unix.Close(fd)
	if s.buf == nil {
		s.buf = make([]byte, samplerBufStart)
	}
	n := 0
	for {
		if n == len(s.buf) {
			if len(s.buf) >= samplerBufMax {
				return "", fmt.Errorf("/proc/%d/%s: larger than %d bytes", pid, name, samplerBufMax)
			}
			s.buf = append(s.buf, make([]byte, len(s.buf))...)
		}
		k, err := unix.Read(fd, s.buf[n:])
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return "", procFileError(pid, name, err)
		}
		if k == 0 {
			break
		}
		n += k
	}
	if n == 0 {
		return "", nil
	}
	return unsafe.String(&s.buf[0], n), nil
}

// procFileError wraps an error of reading /proc/<pid>/<name>.
func procFileError(pid int, name string, err error) error {
	if errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("%w: /proc/%d/%s: %w", errVanished, pid, name, err)
	}
	return fmt.Errorf("/proc/%d/%s: %w", pid, name, err)
}

// open opens dir, followed by pid (when ≥ 0), "/" and name (when not ""),
// read-only, with the path built in s.path: no allocation, unlike
// unix.Open, which copies the path to make it NUL-terminated.
func (s *Sampler) open(dir string, pid int, name string, flags int) (int, error) {
	p := append(s.path[:0], dir...)
	if pid >= 0 {
		p = strconv.AppendInt(p, int64(pid), 10)
	}
	if name != "" {
		p = append(p, '/')
		p = append(p, name...)
	}
	p = append(p, 0)
	s.path = p
	cwd := unix.AT_FDCWD // a variable: the constant is negative
	for {
		r, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(cwd), uintptr(unsafe.Pointer(&p[0])),
			uintptr(flags|unix.O_RDONLY|unix.O_CLOEXEC), 0, 0, 0)
		if errno == unix.EINTR {
			continue
		}
		if errno != 0 {
			return -1, errno
		}
		return int(r), nil
	}
}

// addMember adds pid's usage to total, and counts it in members, when pid
// is in the process group pgid.
func (s *Sampler) addMember(total *Usage, members *int, pgid, pid int) error {
	u, member, err := s.member(pgid, pid)
	if err != nil {
		return err
	}
	if member {
		total.add(u)
		*members++
	}
	return nil
}
