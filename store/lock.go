package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// lockFile takes an exclusive flock on path (created if needed), waiting
// until ctx is done. The lock lives on a sidecar file because the store
// itself is replaced by rename, which would orphan a lock on its inode.
//
// The lock file is the writer's alone (0600): flock needs only an open
// descriptor, read-only will do, so a lock file others can open lets any
// user block every write. A lock file left wider by an older poolctl is
// narrowed here; one that is a symbolic link, not a regular file, or owned
// by another user is refused.
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	f, err := openLock(path)
	if err != nil {
		return nil, err
	}
	delay := 200 * time.Microsecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			f.Close()
			return nil, fmt.Errorf("%w (%s): %w", ErrLockTimeout, path, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, 10*time.Millisecond)
	}
}

// openLock opens the lock file without following a symbolic link, and
// checks and narrows it (see lockFile).
func openLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o600)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("open lock file: %s is a symbolic link; remove it (poolctl creates its own): %w", path, fs.ErrPermission)
	}
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("lock file %s is not a regular file; remove it (poolctl creates its own): %w", path, fs.ErrPermission)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		f.Close()
		return nil, fmt.Errorf("lock file %s is owned by uid %d, not by this writer (uid %d), who alone may hold it; remove it while no poolctl writes: %w",
			path, st.Uid, os.Geteuid(), fs.ErrPermission)
	}
	if fi.Mode().Perm() != 0o600 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("narrow the mode of lock file %s: %w", path, err)
		}
	}
	return f, nil
}
