package etcdtest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Cluster is an etcd cluster of several members in the test process.
type Cluster struct {
	t       testing.TB
	Members []*Member
}

// StartCluster starts an n-member cluster on 127.0.0.1; it is stopped at
// cleanup.
func StartCluster(t testing.TB, n int) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	t.Cleanup(c.Stop)
	for attempt := 1; ; attempt++ {
		err := c.launch(n)
		if err == nil {
			break
		}
		c.Stop()
		if !errors.Is(err, syscall.EADDRINUSE) || attempt == startAttempts {
			t.Fatalf("start etcd cluster: %v", err)
		}
	}
	var wg sync.WaitGroup
	for _, m := range c.Members {
		wg.Go(func() {
			select {
			case <-m.e.Server.ReadyNotify():
			case <-time.After(readyTimeout):
			}
		})
	}
	wg.Wait()
	for _, m := range c.Members {
		select {
		case <-m.e.Server.ReadyNotify():
		default:
			t.Fatalf("etcd member %s did not become ready", m.Name)
		}
	}
	return c
}

// launch starts n members on fresh ports without waiting for them.
func (c *Cluster) launch(n int) error {
	c.Members = nil
	var peers []string
	for i := range n {
		m := newMember(c.t, "m"+strconv.Itoa(i), nil)
		c.Members = append(c.Members, m)
		peers = append(peers, m.Name+"="+m.peerURL.String())
	}
	for _, m := range c.Members {
		m.cluster = strings.Join(peers, ",")
		if err := m.launch(); err != nil {
			return fmt.Errorf("member %s: %w", m.Name, err)
		}
	}
	return nil
}

// Endpoints lists every member's client endpoint.
func (c *Cluster) Endpoints() []string {
	var eps []string
	for _, m := range c.Members {
		eps = append(eps, m.Endpoint)
	}
	return eps
}

// URL is the --config value of a store under prefix in the cluster.
func (c *Cluster) URL(prefix string) string {
	return "etcd://" + strings.Join(c.Endpoints(), ",") + "/" + prefix
}

// Leader returns the index of the member that leads, waiting (up to a
// failure guard) for the running members to agree on one.
func (c *Cluster) Leader() int {
	c.t.Helper()
	deadline := time.Now().Add(readyTimeout)
	for {
		for i, m := range c.Members {
			if m.IsLeader() {
				return i
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatal("the etcd cluster has no leader")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StopMember stops member i (Restart on the member starts it again).
func (c *Cluster) StopMember(i int) { c.Members[i].Stop() }

// Stop stops every member.
func (c *Cluster) Stop() {
	for _, m := range c.Members {
		m.Stop()
	}
}
