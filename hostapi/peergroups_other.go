//go:build !linux || 386

package hostapi

import "golang.org/x/sys/unix"

// peerGroups is not available here: the caller falls back to /proc.
func peerGroups(int) ([]int, error) { return nil, unix.ENOPROTOOPT }
