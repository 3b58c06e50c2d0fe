package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/poolctl/poolctl/internal/etcdstore"
	"github.com/poolctl/poolctl/internal/farm"
	"github.com/poolctl/poolctl/metrics"
	"github.com/poolctl/poolctl/store"
)

// FarmOptions make a host follow a store in etcd as a member of a farm.
type FarmOptions struct {
	Backend  *etcdstore.Backend // the store in etcd
	Name     string             // --host-name, validated (farm.ValidateName)
	LeaseTTL time.Duration      // --lease-ttl of farm/alive/NAME
}

// loadTimeout bounds one read of the store from etcd.
const loadTimeout = 10 * time.Second

// farmHost is a host's membership of a farm: where it loads the store
// from, what it applied, whether it reaches etcd, and its registration.
type farmHost struct {
	opts     FarmOptions
	stateDir string
	listen   string // --listen-address
	logger   *slog.Logger
	reg      *farm.Registration // nil until the client exists
	gauge    *metrics.StoreConnected
	started  time.Time

	loadedCh   chan struct{} // closed at the first load from etcd
	loadedOnce sync.Once
	dirty      chan struct{} // the record changed: publish it (capacity 1)

	mu           sync.Mutex
	connected    bool
	offline      bool   // serving the local copy, not loaded from etcd yet
	loadedRev    int64  // revision of the last load from etcd
	loadedVer    string // its store version
	appliedRev   int64
	appliedVer   string
	generation   uint64
	seenRev      int64 // highest revision the watch reported
	pendingSince time.Time
}

func newFarmHost(opts FarmOptions, stateDir, listen string, logger *slog.Logger) *farmHost {
	return &farmHost{opts: opts, stateDir: stateDir, listen: listen, logger: logger, gauge: &metrics.StoreConnected{},
		started: time.Now(), loadedCh: make(chan struct{}), dirty: make(chan struct{}, 1), connected: true}
}

// initialLoad loads the store a host starts with: from etcd, else from
// the local copy (offline), else it fails with an error wrapping
// store.ErrUnavailable: a host with nothing to serve does not start.
func (f *farmHost) initialLoad(ctx context.Context) (*store.Config, error) {
	cfg, err := f.load(ctx)
	if err == nil {
		return cfg, nil
	}
	if !errors.Is(err, store.ErrUnavailable) {
		return nil, err
	}
	data, cerr := readOfflineCopy(f.stateDir)
	if errors.Is(cerr, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w; and there is no local copy of the store (%s) to serve from: start the host once etcd is reachable", err, filepath.Join(f.stateDir, OfflineCopyName))
	}
	if cerr != nil {
		return nil, fmt.Errorf("%w; and the local copy of the store could not be read: %w", err, cerr)
	}
	cfg, cerr = parseStore(ctx, filepath.Join(f.stateDir, OfflineCopyName), data)
	if cerr != nil {
		return nil, fmt.Errorf("%w; and the local copy of the store is not valid: %w", err, cerr)
	}
	f.mu.Lock()
	f.offline = true
	f.loadedVer = cfg.StoreVersion()
	f.mu.Unlock()
	f.setConnected(false, err)
	f.logger.Warn("etcd is unreachable: serving the local copy of the store until it is back", "copy", filepath.Join(f.stateDir, OfflineCopyName), "version", cfg.StoreVersion(), "err", err)
	return resolveListen(cfg, f.listen), nil
}

// load reads the store from etcd with its revision, writes the local
// copy, and returns it with '*' resolved (--listen-address). A store that
// does not exist yet is created with the defaults, as the tool would.
func (f *farmHost) load(ctx context.Context) (*store.Config, error) {
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	b := f.opts.Backend
	data, rev, err := b.ReadRevision(ctx)
	if err == nil && data == nil {
		if _, err = store.OpenBackend(b).Load(ctx); err == nil {
			data, rev, err = b.ReadRevision(ctx)
		}
	}
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			f.setConnected(false, err)
		}
		return nil, err
	}
	f.setConnected(true, nil)
	cfg, err := parseStore(ctx, b.Location(), data)
	if err != nil {
		return nil, err
	}
	if err := writeOfflineCopy(f.stateDir, data); err != nil {
		f.logger.Warn("the local copy of the store was not written; a restart while etcd is down would have nothing to serve", "err", err)
	}
	f.mu.Lock()
	f.loadedRev, f.loadedVer = rev, cfg.StoreVersion()
	wasOffline := f.offline
	f.offline = false
	f.mu.Unlock()
	if wasOffline {
		f.logger.Info("loaded the store from etcd: no longer serving the local copy", "version", cfg.StoreVersion(), "revision", rev)
	}
	f.loadedOnce.Do(func() { close(f.loadedCh) })
	return resolveListen(cfg, f.listen), nil
}

// applied records that the last load was applied.
func (f *farmHost) applied() {
	f.mu.Lock()
	f.appliedRev, f.appliedVer = f.loadedRev, f.loadedVer
	f.generation++
	if f.appliedRev >= f.seenRev {
		f.pendingSince = time.Time{}
	}
	f.mu.Unlock()
	f.changed()
}

// saw records a change the watch reported (rev 0: unknown).
func (f *farmHost) saw(rev int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rev > f.seenRev {
		f.seenRev = rev
	}
	if (rev == 0 || rev > f.appliedRev) && f.pendingSince.IsZero() {
		f.pendingSince = time.Now()
	}
}

func (f *farmHost) revision() int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.loadedRev
}

// changed asks the publisher to publish the record.
func (f *farmHost) changed() {
	select {
	case f.dirty <- struct{}{}:
	default:
	}
}

// setConnected records whether etcd answers, logging and publishing each
// change once; it reports whether it was a reconnection.
func (f *farmHost) setConnected(up bool, why error) (reconnected bool) {
	f.mu.Lock()
	was := f.connected
	f.connected = up
	f.mu.Unlock()
	f.gauge.Set(up)
	switch {
	case was && !up:
		f.logger.Warn("lost etcd: serving what was applied last until it is back", "endpoints", f.opts.Backend.Endpoints(), "err", why)
		f.changed() // Connected false, if etcd still takes it
	case !was && up:
		f.logger.Info("etcd reachable again: catching up with the store", "endpoints", f.opts.Backend.Endpoints())
		f.changed()
		return true
	}
	return false
}

func (f *farmHost) isConnected() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.connected
}
