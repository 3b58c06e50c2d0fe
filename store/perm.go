package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// The store holds secrets (environment variables of workers), so it, its
// history snapshots and its backups are for the writer only: files 0600,
// their directories 0700. One exception lets an operator give read access
// to a group: a store file whose group is not the writer's own (primary)
// group and that has group read (after 'chgrp poolctl-readers' and
// 'chmod 0640') keeps that group and group read: its files are written
// 0640 in that group, their directories 0750. Other bits are never kept.

// filePerm is how a store file is written: its mode, and the reader group
// it belongs to (-1: the writer's own group).
type filePerm struct {
	mode fs.FileMode
	gid  int
}

// privatePerm is the default: the writer alone.
var privatePerm = filePerm{mode: 0o600, gid: -1}

// dirMode is the mode of the directories holding files of this perm.
func (p filePerm) dirMode() fs.FileMode {
	if p.gid >= 0 {
		return 0o750
	}
	return 0o700
}

// storeDirMode is the mode of a store directory poolctl creates: others may
// pass through it (the default site's wwwroot lives there and workers run
// as other users) but not list it; every file in it is private.
const storeDirMode = 0o711

// storePerm decides the perm of the store's files from the store file
// itself (see above); a missing store is private.
func (s *Store) storePerm() filePerm {
	fi, err := os.Stat(s.Path)
	if err != nil {
		return privatePerm
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if ok && int(st.Gid) != os.Getegid() && fi.Mode().Perm()&0o040 != 0 {
		return filePerm{mode: 0o640, gid: int(st.Gid)}
	}
	return privatePerm
}

// narrowFile gives the regular file at path the perm, if it differs. A
// symbolic link, or anything not a regular file, is left alone.
func narrowFile(path string, p filePerm) error {
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("narrow the mode of %s: %w", path, err)
	}
	return narrowInfo(path, fi, p)
}

func narrowInfo(path string, fi fs.FileInfo, p filePerm) error {
	if !fi.Mode().IsRegular() && !fi.IsDir() {
		return nil
	}
	want := p.mode
	if fi.IsDir() {
		want = p.dirMode()
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && p.gid >= 0 && int(st.Gid) != p.gid {
		if err := os.Lchown(path, -1, p.gid); err != nil {
			want &^= 0o070 // not in the reader group: no group access at all
		}
	}
	if fi.Mode().Perm() != want {
		if err := os.Chmod(path, want); err != nil {
			return fmt.Errorf("narrow the mode of %s: %w", path, err)
		}
	}
	return nil
}

// narrowDir gives the regular files directly in dir whose names ours
// accepts the perm, and dir itself when narrowSelf: files an older poolctl
// created 0644 become private this way. Only poolctl's own files are
// touched, as configHistory.path may name a directory shared with others.
func narrowDir(dir string, p filePerm, narrowSelf bool, ours func(name string) bool) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("narrow the mode of %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return nil
	}
	if narrowSelf {
		if err := narrowInfo(dir, fi, p); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("narrow the modes in %s: %w", dir, err)
	}
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !ours(e.Name()) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		errs = append(errs, narrowInfo(filepath.Join(dir, e.Name()), info, p))
	}
	return errors.Join(errs...)
}

// mkdirPerm creates dir (and missing parents) with the directory mode of p.
// An existing directory is narrowed only when narrowSelf.
func mkdirPerm(dir string, p filePerm, narrowSelf bool) error {
	if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
		narrowSelf = true // ours: give it the reader group too
	}
	if err := os.MkdirAll(dir, p.dirMode()); err != nil {
		return err
	}
	if !narrowSelf {
		return nil
	}
	return narrowFile(dir, p)
}
