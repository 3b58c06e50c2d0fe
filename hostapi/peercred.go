package hostapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Peer is the caller on the other end of a control connection: uid, gid
// and PID from SO_PEERCRED and the supplementary groups from
// SO_PEERGROUPS, all taken once, when the connection is accepted. Nothing
// is looked up by PID later: a PID the caller's process gave up may belong
// to another process by the time a request arrives.
type Peer struct {
	PID    int
	UID    int
	GID    int
	Groups []int // supplementary groups when the peer connected
}

type peerKey struct{}

// sockGroups reads SO_PEERGROUPS (peergroups.go); tests replace it to
// play an older kernel.
var sockGroups = peerGroups

// procStatus opens /proc/PID/status; tests replace it.
var procStatus = func(pid int) (io.ReadCloser, error) {
	return os.Open("/proc/" + strconv.Itoa(pid) + "/status")
}

// peerFromConn reads the credentials of the peer of a unix connection. The
// supplementary groups come from SO_PEERGROUPS; on a kernel without it,
// from /proc/PID/status, read now, right after the accept, while the
// connecting process still holds it open.
func peerFromConn(c net.Conn) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, fmt.Errorf("not a unix connection")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var groups []int
	var serr, gerr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		groups, gerr = sockGroups(int(fd))
	}); err != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", err)
	}
	if serr != nil {
		return Peer{}, fmt.Errorf("peer credentials: %w", serr)
	}
	p := Peer{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid), Groups: groups}
	if errors.Is(gerr, unix.ENOPROTOOPT) || errors.Is(gerr, unix.EINVAL) {
		p.Groups = groupsOf(p.PID)
	} else if gerr != nil {
		return Peer{}, fmt.Errorf("peer groups: %w", gerr)
	}
	return p, nil
}

// PeerFrom returns the caller of a request's connection.
func PeerFrom(ctx context.Context) (Peer, bool) {
	p, ok := ctx.Value(peerKey{}).(Peer)
	return p, ok
}

// groupsOf returns the supplementary groups of a process from /proc, for
// kernels without SO_PEERGROUPS; it is read once per connection, at accept.
func groupsOf(pid int) []int {
	f, err := procStatus(pid)
	if err != nil {
		return nil
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "Groups:"); ok {
			var out []int
			for _, g := range strings.Fields(rest) {
				if n, err := strconv.Atoi(g); err == nil {
					out = append(out, n)
				}
			}
			return out
		}
	}
	return nil
}
