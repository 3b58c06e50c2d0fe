package expo

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The process's families, with the names and help texts of client_golang's
// process collector.
var (
	procCPU     = &Desc{Name: "process_cpu_seconds_total", Kind: Counter, Help: "Total user and system CPU time spent in seconds."}
	procMaxFDs  = &Desc{Name: "process_max_fds", Kind: Gauge, Help: "Maximum number of open file descriptors."}
	procNetRecv = &Desc{Name: "process_network_receive_bytes_total", Kind: Counter, Help: "Number of bytes received by the process over the network."}
	procNetSent = &Desc{Name: "process_network_transmit_bytes_total", Kind: Counter, Help: "Number of bytes sent by the process over the network."}
	procOpenFDs = &Desc{Name: "process_open_fds", Kind: Gauge, Help: "Number of open file descriptors."}
	procRSS     = &Desc{Name: "process_resident_memory_bytes", Kind: Gauge, Help: "Resident memory size in bytes."}
	procStart   = &Desc{Name: "process_start_time_seconds", Kind: Gauge, Help: "Start time of the process since unix epoch in seconds."}
	procVirt    = &Desc{Name: "process_virtual_memory_bytes", Kind: Gauge, Help: "Virtual memory size in bytes."}
	procVirtMax = &Desc{Name: "process_virtual_memory_max_bytes", Kind: Gauge, Help: "Maximum amount of virtual memory available in bytes."}
)

// userHZ is the unit of the times in /proc/PID/stat (USER_HZ, 100 on every
// Linux architecture Go supports).
const userHZ = 100

// maxProcFile bounds what is read of one /proc file.
const maxProcFile = 1 << 20

// CollectProcess adds the process's families, read from /proc/self; a
// family whose source cannot be read is left out (as client_golang did).
func CollectProcess(b *Builder) {
	if st, err := readSelfStat(); err == nil {
		b.Add(procCPU, float64(st.utime+st.stime)/userHZ)
		b.Add(procVirt, float64(st.vsize))
		b.Add(procRSS, float64(st.rss*int64(os.Getpagesize())))
		if boot, err := bootTime(); err == nil {
			b.Add(procStart, float64(boot)+float64(st.starttime)/userHZ)
		}
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		b.Add(procOpenFDs, float64(len(ents)))
	}
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) == nil {
		b.Add(procMaxFDs, float64(lim.Cur))
	}
	if unix.Getrlimit(unix.RLIMIT_AS, &lim) == nil {
		b.Add(procVirtMax, float64(lim.Cur))
	}
	if in, out, err := netOctets(); err == nil {
		b.Add(procNetRecv, float64(in))
		b.Add(procNetSent, float64(out))
	}
}

type selfStat struct {
	utime, stime, starttime uint64
	vsize                   uint64
	rss                     int64
}

func readProcFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(&limitedReader{f, maxProcFile}); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return buf.Bytes(), nil
}

type limitedReader struct {
	f *os.File
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("file too large")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= n
	return n, err
}

var errFormat = errors.New("unexpected format")

// readSelfStat parses /proc/self/stat: the fields after the command name,
// which is in parentheses and may contain anything.
func readSelfStat() (selfStat, error) {
	var st selfStat
	b, err := readProcFile("/proc/self/stat")
	if err != nil {
		return st, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return st, fmt.Errorf("/proc/self/stat: %w", errFormat)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state); utime is field 14, stime 15, starttime 22,
	// vsize 23, rss 24.
	if len(f) < 22 {
		return st, fmt.Errorf("/proc/self/stat: %w", errFormat)
	}
	parse := func(s string) uint64 { v, _ := strconv.ParseUint(s, 10, 64); return v }
	st.utime, st.stime, st.starttime, st.vsize = parse(f[11]), parse(f[12]), parse(f[19]), parse(f[20])
	st.rss, _ = strconv.ParseInt(f[21], 10, 64)
	return st, nil
}

// bootTime returns the btime line of /proc/stat.
func bootTime() (int64, error) {
	b, err := readProcFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "btime "); ok {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/stat: no btime: %w", errFormat)
}

// netOctets returns IpExt's InOctets and OutOctets of /proc/self/net/netstat
// (the process's network namespace).
func netOctets() (in, out uint64, err error) {
	b, err := readProcFile("/proc/self/net/netstat")
	if err != nil {
		return 0, 0, err
	}
	var names []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, maxProcFile)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "IpExt: ")
		if !ok {
			continue
		}
		if names == nil {
			names = strings.Fields(rest)
			continue
		}
		vals := strings.Fields(rest)
		var okIn, okOut bool
		for i, n := range names {
			if i >= len(vals) {
				break
			}
			switch n {
			case "InOctets":
				in, _ = strconv.ParseUint(vals[i], 10, 64)
				okIn = true
			case "OutOctets":
				out, _ = strconv.ParseUint(vals[i], 10, 64)
				okOut = true
			}
		}
		if okIn && okOut {
			return in, out, nil
		}
		break
	}
	return 0, 0, fmt.Errorf("/proc/self/net/netstat: no IpExt octets: %w", errFormat)
}
