//go:build !linux

package http1

import "errors"

// hangupHub is not available off Linux.
type hangupHub struct{}

// theHub reports that the watcher cannot run here.
func theHub() (*hangupHub, error) { return nil, errors.New("http1: needs Linux epoll") }

// Supported reports whether the hangup watcher can run here.
func Supported() error {
	_, err := theHub()
	return err
}

func (*hangupHub) watch(*conn)   {}
func (*hangupHub) unwatch(*conn) {}
