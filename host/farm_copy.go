package host

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/poolctl/poolctl/store"
)

// OfflineCopyName is the file in the state directory where a host that
// follows a store in etcd keeps the last store it loaded, to serve from
// when it starts while etcd is unreachable (IIS's offline files).
const OfflineCopyName = "store-offline.toml"

// writeOfflineCopy replaces the local copy atomically: a temporary file
// of mode 0600 in the same directory, synced, then renamed over it.
func writeOfflineCopy(dir string, data []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("local copy of the store: %w", err)
	}
	f, err := os.CreateTemp(dir, "."+OfflineCopyName+".tmp*")
	if err != nil {
		return fmt.Errorf("local copy of the store: %w", err)
	}
	tmp := f.Name()
	err = f.Chmod(0o600)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, OfflineCopyName))
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("local copy of the store: %w", err)
	}
	return nil
}

// readOfflineCopy returns the local copy, or an error wrapping
// fs.ErrNotExist when there is none.
func readOfflineCopy(dir string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, OfflineCopyName))
	if err != nil {
		return nil, fmt.Errorf("local copy of the store: %w", err)
	}
	return data, nil
}

// parseStore loads a configuration from bytes read elsewhere (etcd, the
// local copy), validated as the store's Load does, with its version.
func parseStore(ctx context.Context, location string, data []byte) (*store.Config, error) {
	return store.OpenBackend(bytesBackend{location: location, data: data}).Load(ctx)
}

// bytesBackend is a read-only store.Backend over bytes in memory.
type bytesBackend struct {
	location string
	data     []byte
}

var errReadOnly = errors.New("read-only copy of the store")

func (b bytesBackend) Location() string                     { return b.location }
func (b bytesBackend) WebRoot() string                      { return "" }
func (b bytesBackend) Read(context.Context) ([]byte, error) { return b.data, nil }
func (b bytesBackend) Write(context.Context, func([]byte) ([]byte, *store.Config, error)) (bool, error) {
	return false, errReadOnly
}
func (b bytesBackend) Backups(context.Context) ([]store.Backup, error) { return nil, nil }
func (b bytesBackend) ReadBackup(context.Context, store.Backup) ([]byte, error) {
	return nil, errReadOnly
}
func (b bytesBackend) AddBackup(context.Context, string, []byte) error { return errReadOnly }
func (b bytesBackend) DeleteBackup(context.Context, store.Backup) error {
	return errReadOnly
}
