//go:build linux && !386

package hostapi

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxPeerGroups bounds the groups read from SO_PEERGROUPS (the kernel's
// NGROUPS_MAX).
const maxPeerGroups = 65536

// peerGroups reads the supplementary groups of the peer of a unix socket
// as they were when it connected (SO_PEERGROUPS, Linux 4.13 and later).
func peerGroups(fd int) ([]int, error) {
	n := 64
	for {
		buf := make([]uint32, n)
		size := uint32(4 * n)
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET, unix.SO_PEERGROUPS,
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		switch {
		case errno == unix.ERANGE && int(size/4) > n && int(size/4) <= maxPeerGroups:
			n = int(size / 4) // the kernel says how many it has
			continue
		case errno != 0:
			return nil, errno
		}
		out := make([]int, 0, size/4)
		for _, g := range buf[:min(int(size/4), n)] {
			out = append(out, int(g))
		}
		return out, nil
	}
}
