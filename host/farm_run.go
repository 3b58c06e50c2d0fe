package host

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/poolctl/poolctl/internal/buildinfo"
	"github.com/poolctl/poolctl/internal/farm"
	"github.com/poolctl/poolctl/runstate"
)

// publishEvery is how often at most the record is published when only the
// runtime summary changed.
const publishEvery = 10 * time.Second

// claimAtStart claims the host's name in the farm when etcd answers at
// start. A name held by another instance may be that of this host before a
// crash, whose lease has not expired yet: it waits up to one lease TTL
// (and a margin) for the name to be free; a live host keeps it, and the
// error wraps farm.ErrNameTaken. Other failures (etcd slow or gone right
// after the load) are retried for a while, then left to the monitor,
// which claims the name when etcd answers: the host serves meanwhile.
func (f *farmHost) claimAtStart(ctx context.Context) error {
	if !f.isConnected() {
		return nil // claimed when etcd is back (monitor)
	}
	cli, err := f.opts.Backend.Client()
	if err != nil {
		return fmt.Errorf("register in the farm: %w", err)
	}
	reg := farm.NewRegistration(cli, f.opts.Backend.Key, f.opts.Name, farm.NewID(), f.opts.LeaseTTL)
	f.mu.Lock()
	f.reg = reg
	f.mu.Unlock()
	now := time.Now()
	takenUntil, giveUp := now.Add(f.opts.LeaseTTL+2*time.Second), now.Add(claimPatience)
	logged := false
	for {
		cctx, cancel := context.WithTimeout(ctx, loadTimeout)
		err = reg.Claim(cctx)
		cancel()
		switch {
		case err == nil:
			return nil
		case errors.Is(err, farm.ErrNameTaken):
			if time.Now().After(takenUntil) {
				return err
			}
			if !logged {
				f.logger.Warn("host name in use: waiting for the lease of a previous instance to expire", "name", f.opts.Name, "wait", time.Until(takenUntil).Round(time.Second))
				logged = true
			}
		case ctx.Err() != nil:
			return ctx.Err()
		case time.Now().After(giveUp):
			f.logger.Warn("not registered in the farm yet: etcd did not answer; serving, and registering when it does", "name", f.opts.Name, "err", err)
			return nil
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// claimPatience is how long a host retries claiming its name at start
// when etcd fails otherwise than with the name taken.
const claimPatience = 30 * time.Second

// runFarm runs the farm's loops until ctx ends: the watch of the store,
// the lease and connection monitor, the commands through etcd and the
// publisher of the host's record.
func (h *Host) runFarm(ctx context.Context, api http.Handler) {
	f := h.farm
	go h.followStore(ctx)
	go h.publishRecords(ctx)
	go func() {
		cli := h.farmClient(ctx)
		if cli == nil {
			return
		}
		if err := farm.Serve(ctx, cli, f.opts.Backend.Key, f.opts.Name, api, h.logger); err != nil && ctx.Err() == nil {
			h.logger.Error("farm commands", "err", err)
		}
	}()
	h.monitorFarm(ctx)
}

// farmClient waits until the etcd client exists (monitorFarm creates it).
func (h *Host) farmClient(ctx context.Context) *clientv3.Client {
	select {
	case <-h.farm.loadedCh:
	case <-ctx.Done():
		return nil
	}
	cli, err := h.farm.opts.Backend.Client()
	if err != nil {
		return nil
	}
	return cli
}

// followStore watches the store's keys from the revision loaded last and
// asks the pipeline for an apply on every change (it coalesces bursts).
// A host that started from its local copy watches once it loaded the store
// from etcd.
func (h *Host) followStore(ctx context.Context) {
	f := h.farm
	select {
	case <-f.loadedCh:
	case <-ctx.Done():
		return
	}
	for ctx.Err() == nil {
		ch, err := f.opts.Backend.Watch(ctx, f.revision())
		if err != nil {
			h.logger.Debug("watch the store", "err", err)
			if !sleepCtx(ctx, time.Second) {
				return
			}
			continue
		}
		for rev := range ch {
			if rev != 0 && rev <= f.revision() {
				continue // loaded already
			}
			f.saw(rev)
			f.changed()
			h.pipe.request()
		}
	}
}

// monitorFarm renews the lease every third of its TTL: that tells whether
// etcd answers. When etcd comes back it claims the name again if the lease
// expired, and has the pipeline catch up with the store.
func (h *Host) monitorFarm(ctx context.Context) {
	f := h.farm
	ttl := f.opts.LeaseTTL
	tick := min(max(ttl/3, 200*time.Millisecond), 5*time.Second)
	timeout := max(ttl/2, time.Second)
	takenLogged := false
	for {
		err := h.renew(ctx, timeout)
		if errors.Is(err, farm.ErrNameTaken) {
			if !takenLogged {
				h.logger.Warn("this host's name is held by another instance (a live host, or this host before its restart until that lease expires): serving, not registered yet; retrying", "name", f.opts.Name, "err", err)
				takenLogged = true
			}
			err = nil // etcd answers
		} else if err == nil {
			takenLogged = false
		}
		if f.setConnected(err == nil, err) {
			h.pipe.request() // catch up with what changed meanwhile
		}
		if !sleepCtx(ctx, tick) {
			return
		}
	}
}

// renew keeps the lease alive, creating the client and the registration
// and claiming the name as needed.
func (h *Host) renew(ctx context.Context, timeout time.Duration) error {
	f := h.farm
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	reg := f.registration()
	if reg == nil {
		cli, err := f.opts.Backend.Client()
		if err != nil {
			return err
		}
		reg = farm.NewRegistration(cli, f.opts.Backend.Key, f.opts.Name, farm.NewID(), f.opts.LeaseTTL)
		f.mu.Lock()
		f.reg = reg
		f.mu.Unlock()
	}
	err := reg.KeepAlive(rctx)
	if errors.Is(err, farm.ErrLeaseLost) {
		if err = reg.Claim(rctx); err == nil {
			h.logger.Info("registered in the farm", "name", f.opts.Name, "instance", reg.Instance())
			f.changed()
		}
	}
	return err
}

// publishRecords publishes the host's record when it changed: at once
// after an apply and a (re)connection, and every publishEvery at most for
// the runtime summary (pools started, workers).
func (h *Host) publishRecords(ctx context.Context) {
	f := h.farm
	tick := time.NewTicker(publishEvery)
	defer tick.Stop()
	var last *farm.HostRecord
	for {
		force := false
		select {
		case <-ctx.Done():
			return
		case <-f.dirty:
			force = true
		case <-tick.C:
		}
		reg := f.registration()
		if reg == nil || (!force && !f.isConnected()) {
			continue
		}
		rec := h.record(reg)
		if !force && last != nil && sameRecord(*last, rec) {
			continue
		}
		// A change (connected or not) is tried once: etcd may still take
		// the write when only the lease renewal failed; when it is gone,
		// the reconnection publishes again.
		pctx, cancel := context.WithTimeout(ctx, loadTimeout)
		err := reg.Publish(pctx, rec)
		cancel()
		if err != nil {
			h.logger.Debug("publish the host record", "err", err)
			last = nil
			if f.isConnected() {
				f.changed() // a passing failure: again in a second
				if !sleepCtx(ctx, time.Second) {
					return
				}
			}
			continue
		}
		last = &rec
	}
}

func sameRecord(a, b farm.HostRecord) bool {
	a.Updated, b.Updated = time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

// record is the host's record now.
func (h *Host) record(reg *farm.Registration) farm.HostRecord {
	f := h.farm
	rec := farm.HostRecord{Name: f.opts.Name, Instance: reg.Instance(), Addresses: h.front.Addrs(), Version: buildinfo.Version(),
		Started: f.started, Updated: time.Now()}
	f.mu.Lock()
	rec.StoreVersion, rec.StoreRevision, rec.Generation = f.appliedVer, f.appliedRev, f.generation
	rec.Connected, rec.Offline, rec.PendingSince = f.connected, f.offline, f.pendingSince
	f.mu.Unlock()
	for _, p := range h.manager.Pools() {
		st := p.Status()
		rec.Pools++
		if st.State == runstate.PoolStarted {
			rec.PoolsStarted++
		}
		rec.Workers += len(st.Workers)
	}
	return rec
}

func (f *farmHost) registration() *farm.Registration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reg
}

// release revokes the lease: farm/alive/NAME goes at once; the record
// stays.
func (f *farmHost) release() {
	if reg := f.registration(); reg != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reg.Release(ctx)
	}
}

// sleepCtx waits d, or less when ctx ends; it reports whether ctx goes on.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
