// Package loopback keeps the bench programs on this machine: they refuse
// any address that is not a loopback one.
package loopback

import (
	"fmt"
	"net"
)

// Check refuses addresses ("host:port") that are not on 127.0.0.0/8 or ::1.
func Check(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("address %q is not a loopback address", addr)
	}
	return nil
}
