package commands

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

// Moving a store between a file and etcd (or between any two stores):
//
//	poolctl --config DEST restore backup /from:FILE   makes FILE's bytes the store
//	poolctl --config SRC  add backup /to:FILE         writes the store's bytes to a new FILE
//
// Both copy the bytes unchanged, so file → etcd → file gives the same file.

// maxImportBytes bounds a store file read by restore backup /from:.
const maxImportBytes = 64 << 20

// importStore is restore backup /from:FILE.
func importStore(e *env, a params.Args) error {
	if a.HasID || a.Has("name", "backup.name") {
		return usagef("restore backup takes a backup NAME or /from:FILE, not both")
	}
	rest, taken := a.Take("from")
	if err := noParams(rest, "restore", "backup"); err != nil {
		return err
	}
	path := taken[len(taken)-1].Value
	if path == "" {
		return usagef("restore backup /from: needs a store file: /from:FILE")
	}
	data, err := readStoreFile(path)
	if err != nil {
		return err
	}
	ctx, cancel := e.withTimeout()
	defer cancel()
	if err := e.store.Replace(ctx, data); err != nil {
		if errors.Is(err, store.ErrInvalid) {
			return fmt.Errorf("%s cannot be restored: %w; the store was not changed", path, err)
		}
		return fmt.Errorf("%s cannot be restored: %w", path, err)
	}
	e.notifyHost(ctx)
	fmt.Fprintf(e.stdout, "Restored configuration from %q\n", path)
	return nil
}

// readStoreFile reads a regular file of at most maxImportBytes.
func readStoreFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, usagef("/from:%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxImportBytes {
		return nil, usagef("/from:%s is over %d bytes: not a store file", path, maxImportBytes)
	}
	return data, nil
}

// exportStore is add backup /to:FILE: the store's bytes, as they are, into a
// new file of mode 0600.
func exportStore(e *env, a params.Args) error {
	if a.HasID || a.Has("name", "backup.name") {
		return usagef("add backup takes a backup NAME or /to:FILE, not both")
	}
	rest, taken := a.Take("to")
	if err := noParams(rest, "add", "backup"); err != nil {
		return err
	}
	path := taken[len(taken)-1].Value
	if path == "" {
		return usagef("add backup /to: needs a file to create: /to:FILE")
	}
	ctx, cancel := e.withTimeout()
	defer cancel()
	data, err := e.store.Read(ctx)
	if err != nil {
		return err
	}
	if err := writeNewFile(path, data); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Copied the store to %q\n", path)
	return nil
}

// writeNewFile creates path (it must not exist) with data, mode 0600,
// synced; a failed write leaves no file.
func writeNewFile(path string, data []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: /to:%s already exists; give a new file (add backup /to: never overwrites)", store.ErrExists, path)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return f.Close()
}
