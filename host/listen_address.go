package host

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/poolctl/poolctl/store"
)

// ErrListenAddress marks a --listen-address this machine cannot listen
// on.
var ErrListenAddress = errors.New("bad --listen-address")

// CheckListenAddress validates --listen-address: an IP address (IPv6
// without brackets) that this machine can listen on (one of its own, or
// any of a loopback network such as 127.0.0.2). It returns the address in
// its canonical form.
func CheckListenAddress(s string) (string, error) {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil || a.Zone() != "" {
		return "", fmt.Errorf("%w %q: expected an IP address of this machine, e.g. 10.0.0.5, 127.0.0.2 or fd00::5", ErrListenAddress, s)
	}
	a = a.Unmap()
	if a.IsUnspecified() || a.IsMulticast() {
		return "", fmt.Errorf("%w %q: expected one address of this machine, not %s (leave the flag out to listen on every address)", ErrListenAddress, s, a)
	}
	// Bind a port to learn whether the address is ours: the kernel
	// knows (EADDRNOTAVAIL), including the loopback network's addresses.
	ln, err := net.Listen("tcp", netip.AddrPortFrom(a, 0).String())
	if err != nil {
		if errors.Is(err, syscall.EADDRNOTAVAIL) {
			return "", fmt.Errorf("%w %s: no interface of this machine has this address (see `ip addr`): %w", ErrListenAddress, a, err)
		}
		return "", fmt.Errorf("%w %s: %w", ErrListenAddress, a, err)
	}
	ln.Close()
	return a.String(), nil
}

// resolveListen returns cfg with the '*' of every binding replaced by
// addr (--listen-address), so the front listens on addr only; cfg itself
// when addr is "" (every address, the default). The store is not changed.
func resolveListen(cfg *store.Config, addr string) *store.Config {
	if addr == "" || cfg == nil {
		return cfg
	}
	ip := addr
	if a, err := netip.ParseAddr(addr); err == nil && a.Is6() {
		ip = "[" + addr + "]"
	}
	out := *cfg
	out.Sites = make([]store.Site, len(cfg.Sites))
	for i, s := range cfg.Sites {
		s.Bindings = append([]store.Binding(nil), s.Bindings...)
		for j, b := range s.Bindings {
			ep, err := store.ParseBindingInformation(b.BindingInformation)
			if err != nil || ep.IP != "*" {
				continue
			}
			s.Bindings[j].BindingInformation = ip + ":" + strconv.Itoa(int(ep.Port)) + ":" + ep.Host
		}
		out.Sites[i] = s
	}
	return &out
}
