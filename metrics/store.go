package metrics

import (
	"sync/atomic"

	"github.com/poolctl/poolctl/metrics/expo"
)

var descStoreConnected = expo.NewDesc("poolctl_store_connected",
	"1 while the host is connected to its store; 0 while it serves what it applied last, or its local copy, because etcd is unreachable. Always 1 for a file store.", nil, expo.Gauge)

// StoreConnected is the poolctl_store_connected gauge: whether the host
// reaches its store. The zero value reports connected.
type StoreConnected struct {
	down atomic.Bool
}

// Set records whether the host is connected to its store.
func (s *StoreConnected) Set(connected bool) { s.down.Store(!connected) }

// Connected reports what Set recorded.
func (s *StoreConnected) Connected() bool { return !s.down.Load() }

// Collect reads the gauge now.
func (s *StoreConnected) Collect(b *expo.Builder) {
	v := 0.0
	if s.Connected() {
		v = 1
	}
	b.Add(descStoreConnected, v)
}
