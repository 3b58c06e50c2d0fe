package farm

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Applied says which store version a write made: a host has applied it when
// it publishes that StoreVersion, or a StoreRevision at or after Revision
// (a later write's store includes this one). Revision 0 checks the
// version alone.
type Applied struct {
	Version  string
	Revision int64
}

// has reports whether rec's applied store includes a.
func (a Applied) has(rec HostRecord) bool {
	if a.Version != "" && rec.StoreVersion == a.Version {
		return true
	}
	return a.Revision > 0 && rec.StoreRevision >= a.Revision
}

// Ack is the outcome of WaitApplied: the live hosts, and those that had
// not applied the write when the wait ended.
type Ack struct {
	Live    []string
	Pending []string
}

// WaitApplied waits until every live host (one with an alive key) has
// applied a, watching farm/hosts/ and farm/alive/ (no polling): a host
// that turns Gone meanwhile is no longer waited for, one that comes
// alive is. It returns when all have, or when ctx ends (then Pending
// names those that had not, and the error is nil: the write is done).
// No live host: nothing to wait for.
func WaitApplied(ctx context.Context, cli *clientv3.Client, keyOf func(string) string, a Applied) (Ack, error) {
	recs, alive, rev, err := ReadHosts(ctx, cli, keyOf)
	if err != nil {
		return Ack{}, err
	}
	w := ackWait{a: a, recs: map[string]HostRecord{}, alive: map[string]bool{}}
	for _, r := range recs {
		w.recs[r.Name] = r
	}
	for n, ok := range alive {
		if ok {
			w.alive[n] = true
		}
	}
	if w.done() {
		return w.ack(), nil
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	hostsKey, aliveKey := HostsPrefix(keyOf), AlivePrefix(keyOf)
	hostsCh := cli.Watch(wctx, hostsKey, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	aliveCh := cli.Watch(wctx, aliveKey, clientv3.WithPrefix(), clientv3.WithRev(rev+1))
	for !w.done() {
		select {
		case <-ctx.Done():
			return w.ack(), nil
		case resp, ok := <-hostsCh:
			if !ok || resp.Err() != nil {
				return w.ack(), watchErr(ctx, resp, ok)
			}
			for _, ev := range resp.Events {
				name := strings.TrimPrefix(string(ev.Kv.Key), hostsKey)
				if ev.Type == clientv3.EventTypeDelete {
					delete(w.recs, name)
					continue
				}
				var rec HostRecord
				if json.Unmarshal(ev.Kv.Value, &rec) == nil {
					w.recs[name] = rec
				}
			}
		case resp, ok := <-aliveCh:
			if !ok || resp.Err() != nil {
				return w.ack(), watchErr(ctx, resp, ok)
			}
			for _, ev := range resp.Events {
				name := strings.TrimPrefix(string(ev.Kv.Key), aliveKey)
				w.alive[name] = ev.Type != clientv3.EventTypeDelete
			}
		}
	}
	return w.ack(), nil
}

// watchErr is nil when the watch ended because ctx did (the wait is over),
// else the watch's error.
func watchErr(ctx context.Context, resp clientv3.WatchResponse, ok bool) error {
	if ctx.Err() != nil {
		return nil
	}
	if !ok {
		return fmt.Errorf("watch farm hosts: the watch ended")
	}
	return fmt.Errorf("watch farm hosts: %w", resp.Err())
}

// ackWait is WaitApplied's view of the farm.
type ackWait struct {
	a     Applied
	recs  map[string]HostRecord
	alive map[string]bool
}

func (w *ackWait) done() bool { return len(w.ack().Pending) == 0 }

func (w *ackWait) ack() Ack {
	var out Ack
	for n, ok := range w.alive {
		if !ok {
			continue
		}
		out.Live = append(out.Live, n)
		if rec, have := w.recs[n]; !have || !w.a.has(rec) {
			out.Pending = append(out.Pending, n)
		}
	}
	sort.Strings(out.Live)
	sort.Strings(out.Pending)
	return out
}
