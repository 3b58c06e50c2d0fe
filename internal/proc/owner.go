package proc

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// Proof that a listening port belongs to a worker. The kernel reports the
// listening TCP sockets of the network namespace with their inode (through
// sock_diag, or in /proc/net/tcp and /proc/net/tcp6); a process holds a
// socket when one of the links in /proc/<pid>/fd reads socket:[inode]. A worker owns its port when every
// socket listening where a connection to 127.0.0.1:port can arrive (that
// address, 0.0.0.0, ::ffff:127.0.0.1 or ::) is held by the worker's process,
// a process of its process group or one of its descendants.

// ErrNotOwner is wrapped when the port is listened on by a process that is
// not the worker.
var ErrNotOwner = errors.New("the port is listened on by a process that is not this worker")

// errNoListener says nothing listens on the port yet.
var errNoListener = errors.New("nothing listens on the port yet")

// Bounds on what is read from /proc.
const (
	maxNetLines = 1 << 20 // lines of one /proc/net/tcp file
	maxFDs      = 1 << 16 // fds looked at per process
	maxProcs    = 1 << 16 // processes looked at in /proc
)

// listener is one listening socket.
type listener struct {
	inode uint64
	uid   int
}

// listenersOn returns the sockets that would accept a connection to
// 127.0.0.1:port: from sock_diag (sockdiag.go), or from /proc/net/tcp{,6}
// where netlink is not available.
func listenersOn(port int) ([]listener, error) {
	if ls, err := listenersDiag(port); err == nil {
		return ls, nil
	}
	return listenersProc(port)
}

// listenersProc is listenersOn from /proc/net/tcp and /proc/net/tcp6.
func listenersProc(port int) ([]listener, error) {
	var out []listener
	for _, name := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		ls, err := scanNetFile(name, port)
		if err != nil && !(errors.Is(err, os.ErrNotExist) && name == "/proc/net/tcp6") {
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}

// scanNetFile reads one of /proc/net/tcp{,6}.
func scanNetFile(name string, port int) ([]listener, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("read the listening sockets: %w", err)
	}
	defer f.Close()
	return parseNetTCP(f, port)
}

// parseNetTCP picks from a /proc/net/tcp{,6} table the sockets in state
// LISTEN (0A) that accept connections to 127.0.0.1:port.
func parseNetTCP(r io.Reader, port int) ([]listener, error) {
	var out []listener
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 4096)
	for n := 0; sc.Scan(); n++ {
		if n == 0 {
			continue // the header
		}
		if n > maxNetLines {
			return nil, fmt.Errorf("read the listening sockets: more than %d lines", maxNetLines)
		}
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" {
			continue
		}
		ip, p, ok := parseHexAddr(fields[1])
		if !ok || p != port || !acceptsLoopback(ip) {
			continue
		}
		inode, err := strconv.ParseUint(fields[9], 10, 64)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(fields[7])
		out = append(out, listener{inode: inode, uid: uid})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read the listening sockets: %w", err)
	}
	return out, nil
}

// parseHexAddr parses the kernel's ADDR:PORT, where ADDR is 8 or 32 hex
// digits of 32-bit words in host (little-endian) order.
func parseHexAddr(s string) (net.IP, int, bool) {
	a, p, ok := strings.Cut(s, ":")
	if !ok {
		return nil, 0, false
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return nil, 0, false
	}
	raw, err := hex.DecodeString(a)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return nil, 0, false
	}
	ip := make(net.IP, len(raw))
	for w := 0; w < len(raw); w += 4 {
		ip[w], ip[w+1], ip[w+2], ip[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	return ip, int(port), true
}

// acceptsLoopback reports whether a socket bound to ip receives connections
// to 127.0.0.1.
func acceptsLoopback(ip net.IP) bool {
	return ip.IsUnspecified() || ip.Equal(net.IPv4(127, 0, 0, 1))
}

// checkOwner proves that the sockets listening on port belong to the
// process group led by pid (or its descendants). It fails with
// errNoListener when nothing listens yet, and with an error wrapping
// ErrNotOwner when another process holds a listener.
func checkOwner(pid, port int) error {
	ls, err := listenersOn(port)
	if err != nil {
		return err
	}
	if len(ls) == 0 {
		return fmt.Errorf("port %d: %w", port, errNoListener)
	}
	want := make(map[uint64]bool, len(ls))
	for _, l := range ls {
		want[l.inode] = true
	}
	// The worker itself usually holds the socket: look there first.
	holdSockets(pid, want)
	if len(want) > 0 {
		for _, member := range groupOf(pid) {
			if holdSockets(member, want); len(want) == 0 {
				break
			}
		}
	}
	if len(want) == 0 {
		return nil
	}
	for _, l := range ls {
		if want[l.inode] {
			return fmt.Errorf("port %d: %w (worker pid %d; the listening socket, inode %d, belongs to uid %d)", port, ErrNotOwner, pid, l.inode, l.uid)
		}
	}
	return nil
}

// holdSockets deletes from want the socket inodes that pid holds.
func holdSockets(pid int, want map[uint64]bool) {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	defer d.Close()
	for seen := 0; seen < maxFDs && len(want) > 0; {
		names, err := d.Readdirnames(256)
		for _, n := range names {
			seen++
			link, lerr := os.Readlink(dir + "/" + n)
			if lerr != nil {
				continue
			}
			s, ok := strings.CutPrefix(link, "socket:[")
			if !ok {
				continue
			}
			if ino, perr := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 64); perr == nil {
				delete(want, ino)
			}
		}
		if err != nil {
			return
		}
	}
}

// groupOf returns the processes of pid's process group and pid's
// descendants (pid excluded), from /proc/<pid>/stat.
func groupOf(pid int) []int {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	defer d.Close()
	names, _ := d.Readdirnames(maxProcs)
	parent := map[int]int{}
	var out []int
	for _, n := range names {
		p, err := strconv.Atoi(n)
		if err != nil || p == pid {
			continue
		}
		st, err := readStat(p) // usage.go
		if err != nil {
			continue
		}
		if st.pgrp == pid {
			out = append(out, p)
			continue
		}
		parent[p] = st.ppid
	}
	// Descendants outside the group (setsid or setpgid children).
	in := map[int]bool{pid: true}
	for _, p := range out {
		in[p] = true
	}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if in[pp] && !in[p] {
				in[p], changed = true, true
				out = append(out, p)
				delete(parent, p)
			}
		}
	}
	return out
}
