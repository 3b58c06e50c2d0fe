package etcdstore

import (
	"os"
	"time"

	"github.com/poolctl/poolctl/store"
)

// Open returns the store a --config value names: a file path gives the
// file store, etcd://… the store in etcd (configured from the
// POOLCTL_ETCD_* environment), and any other scheme a store whose every
// operation fails with an error wrapping store.ErrInvalid. timeout bounds
// operations made without a deadline.
func Open(spec string, timeout time.Duration) *store.Store {
	scheme, ok := store.HasScheme(spec)
	if !ok {
		return store.Open(spec)
	}
	if scheme != Scheme {
		return store.OpenFailed(spec, store.UnknownSchemeError(spec, scheme, "etcd://HOST:PORT[,HOST:PORT...]/PREFIX"))
	}
	loc, err := ParseLocation(spec)
	if err != nil {
		return store.OpenFailed(spec, err)
	}
	return store.OpenBackend(New(loc, timeout, os.Getenv))
}
