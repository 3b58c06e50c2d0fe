package etcdstore

import (
	"context"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// ReadRevision returns the store's bytes (nil and no error when there is
// no store yet) and the etcd revision they were read at, for a host that
// records what it applied and watches from there.
func (b *Backend) ReadRevision(ctx context.Context) ([]byte, int64, error) {
	s, err := b.readSnapshot(ctx, 0)
	if err != nil {
		return nil, 0, err
	}
	if !s.exists {
		return nil, s.rev, nil
	}
	data, err := s.layout.join()
	if err != nil {
		return nil, 0, err
	}
	return data, s.rev, nil
}

// storeKeys are the keys (and prefixes) that hold the store's bytes; the
// rest of the prefix (farm/, history/, backup/) is not the configuration.
var storeKeys = []struct {
	name   string
	prefix bool
}{{"config", false}, {"apppools/", true}, {"sites/", true}}

// Watch reports changes of the store's bytes after revision rev: it sends
// the revision of each change (or 0 when a watch had to start again and
// changes may have been missed: read the store again) on the returned
// channel, coalescing bursts (the channel holds one value), until ctx
// ends; then it closes the channel. It watches (etcd Watch) the store's
// keys only, and resumes by itself after etcd comes back.
func (b *Backend) Watch(ctx context.Context, rev int64) (<-chan int64, error) {
	c, err := b.getClient()
	if err != nil {
		return nil, err
	}
	out := make(chan int64, 1)
	notify := func(r int64) {
		select {
		case out <- r:
		default:
			// One is waiting: replace it by the later one, or by 0 (read
			// again), which stands for every change.
			select {
			case old := <-out:
				if old == 0 {
					r = 0
				}
			default:
			}
			select {
			case out <- r:
			default:
			}
		}
	}
	done := make(chan struct{}, len(storeKeys))
	for _, k := range storeKeys {
		go func() {
			defer func() { done <- struct{}{} }()
			b.watchKey(ctx, c, k.name, k.prefix, rev, notify)
		}()
	}
	go func() {
		for range storeKeys {
			<-done
		}
		close(out)
	}()
	return out, nil
}

// watchKey watches one key or prefix from after rev until ctx ends,
// starting again after an error (compaction, a lost leader).
func (b *Backend) watchKey(ctx context.Context, c *clientv3.Client, name string, prefix bool, rev int64, notify func(int64)) {
	for ctx.Err() == nil {
		opts := []clientv3.OpOption{clientv3.WithRev(rev + 1)}
		if prefix {
			opts = append(opts, clientv3.WithPrefix())
		}
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		for wr := range c.Watch(wctx, b.loc.key(name), opts...) {
			if wr.Err() != nil {
				if wr.CompactRevision > 0 {
					rev = wr.CompactRevision - 1
				}
				notify(0)
				break
			}
			if len(wr.Events) > 0 {
				rev = max(rev, wr.Header.Revision)
				notify(wr.Header.Revision)
			}
		}
		cancel()
		t := time.NewTimer(time.Second)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
}
