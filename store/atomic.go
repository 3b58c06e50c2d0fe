package store

import (
	"fmt"
	"os"
	"path/filepath"
)

// writeFileAtomic writes the store file itself; tests replace it to make
// the write fail.
var writeFileAtomic = writeAtomic

// writeAtomic replaces path with data so that a reader, or the file after a
// crash, is either the old or the new content: write a temporary file in the
// same directory, fsync it, rename it over path, fsync the directory. The
// file gets p's mode and group; when the group cannot be given, group
// access is dropped.
func writeAtomic(path string, data []byte, p filePerm) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	perm := p.mode
	if p.gid >= 0 {
		if tmp.Chown(-1, p.gid) != nil {
			perm &^= 0o070
		}
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp.Name(), err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
