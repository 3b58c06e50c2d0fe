package host

import (
	"context"
	"fmt"

	"github.com/poolctl/poolctl/store"
)

// openStore opens the store the host runs and loads it: the file at
// StorePath, or (Farm set) the store in etcd, where the host also claims
// its name. The configuration has '*' resolved (--listen-address).
func openStore(ctx context.Context, opts Options) (*store.Store, *farmHost, *store.Config, error) {
	if opts.Farm == nil {
		st := store.Open(opts.StorePath)
		cfg, err := st.Load(ctx)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("load store: %w", err)
		}
		return st, nil, resolveListen(cfg, opts.ListenAddress), nil
	}
	fh := newFarmHost(*opts.Farm, opts.StateDir, opts.ListenAddress, opts.Logger)
	cfg, err := fh.initialLoad(ctx)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load store: %w", err)
	}
	if err := fh.claimAtStart(ctx); err != nil {
		return nil, nil, nil, err
	}
	return store.OpenBackend(opts.Farm.Backend), fh, cfg, nil
}

// loadStore is the pipeline's load: from etcd for a farm host (which
// records the revision and keeps the local copy), else from the file.
func (h *Host) loadStore(ctx context.Context) (*store.Config, error) {
	if h.farm != nil {
		return h.farm.load(ctx)
	}
	cfg, err := h.store.Load(ctx)
	if err != nil {
		return nil, err
	}
	return resolveListen(cfg, h.opts.ListenAddress), nil
}

// afterApply records what an apply of the pipeline applied.
func (h *Host) afterApply() {
	if h.farm != nil {
		h.farm.applied()
	}
}
