package proc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Listening sockets through the kernel's sock_diag netlink interface (what
// ss(8) uses). Unlike /proc/net/tcp, which lists every connection of the
// host, a dump restricted to the LISTEN state costs the same however busy
// the host is, so readiness can poll it every few milliseconds.

// Layout of the kernel's structures (linux/inet_diag.h, netlink.h).
const (
	nlmsgHdrLen     = 16
	inetDiagReqLen  = 56 // struct inet_diag_req_v2
	inetDiagMsgLen  = 72 // struct inet_diag_msg
	tcpListenState  = 10 // TCP_LISTEN
	maxDiagMessages = 1 << 20
	diagRecvTimeout = 2 // seconds
)

// listenersDiag returns the TCP sockets listening where a connection to
// 127.0.0.1:port arrives, from a sock_diag dump of IPv4 and IPv6 listeners.
func listenersDiag(port int) ([]listener, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	tv := unix.Timeval{Sec: diagRecvTimeout}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, fmt.Errorf("sock_diag: %w", err)
	}
	var out []listener
	for seq, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		ls, err := dumpListeners(fd, family, uint32(seq+1), port)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}

// diagBufs holds the receive buffers of sock_diag dumps: a readiness check
// polls every few milliseconds, for hundreds of workers starting at once,
// and a buffer is only held for the length of one dump.
var diagBufs = sync.Pool{New: func() any {
	b := make([]byte, diagBufSize)
	return &b
}}

// diagBufSize is a dump's receive buffer, more than the kernel puts in
// one message of a dump (at most 32 KB).
const diagBufSize = 64 << 10

// dumpListeners asks for the TCP listeners of one address family.
func dumpListeners(fd int, family uint8, seq uint32, port int) ([]listener, error) {
	req := make([]byte, nlmsgHdrLen+inetDiagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(req[8:], seq)
	req[16], req[17] = family, unix.IPPROTO_TCP
	ne.PutUint32(req[20:], 1<<tcpListenState)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag request: %w", err)
	}
	var out []listener
	bp := diagBufs.Get().(*[]byte)
	defer diagBufs.Put(bp)
	buf := *bp
	for seen := 0; seen < maxDiagMessages; {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("sock_diag reply: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("sock_diag reply: %w", err)
		}
		for _, m := range msgs {
			seen++
			if m.Header.Seq != seq {
				continue
			}
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if errno := int32(ne.Uint32(m.Data)); errno != 0 {
						return nil, fmt.Errorf("sock_diag: %w", syscall.Errno(-errno))
					}
				}
				return nil, errors.New("sock_diag: error reply")
			case unix.SOCK_DIAG_BY_FAMILY:
				if l, ok := parseDiagMsg(m.Data, port); ok {
					out = append(out, l)
				}
			}
		}
	}
	return nil, fmt.Errorf("sock_diag: more than %d messages", maxDiagMessages)
}

// parseDiagMsg reads one struct inet_diag_msg and keeps it when it is a
// listener that accepts connections to 127.0.0.1:port.
func parseDiagMsg(d []byte, port int) (listener, bool) {
	if len(d) < inetDiagMsgLen || d[1] != tcpListenState {
		return listener{}, false
	}
	if int(binary.BigEndian.Uint16(d[4:6])) != port {
		return listener{}, false
	}
	var ip net.IP
	switch d[0] {
	case unix.AF_INET:
		ip = net.IP(append([]byte{}, d[8:12]...))
	case unix.AF_INET6:
		ip = net.IP(append([]byte{}, d[8:24]...))
	default:
		return listener{}, false
	}
	if !acceptsLoopback(ip) {
		return listener{}, false
	}
	ne := binary.NativeEndian
	return listener{inode: uint64(ne.Uint32(d[68:72])), uid: int(ne.Uint32(d[64:68]))}, true
}
