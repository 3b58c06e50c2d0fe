package hostapi

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// ErrUnsafeSocketDir means the private directory the control socket lies in
// (FallbackDir) is not private: not ours, open to others, or not a real
// directory. Someone else may have created it to stand in for the host.
var ErrUnsafeSocketDir = errors.New("unsafe control socket directory")

// FallbackDir is the directory the control socket goes under when the
// caller is not root and XDG_RUNTIME_DIR is unset: $TMPDIR/poolctl-EUID
// (/tmp/poolctl-EUID). /tmp is shared, so it must be a real directory owned
// by the effective uid with mode 0700; the host creates it so, and both the
// host and the tool refuse it otherwise.
func FallbackDir() string {
	return filepath.Join(os.TempDir(), "poolctl-"+strconv.Itoa(os.Geteuid()))
}

// UnsafeDirError says why the socket directory was refused and how to fix
// it.
type UnsafeDirError struct {
	Dir    string
	Reason string
}

func (e *UnsafeDirError) Error() string {
	return fmt.Sprintf("control socket directory %s %s, so another user could stand in for poolctl host: "+
		"remove it (rm -r %s) and start poolctl host again, or set XDG_RUNTIME_DIR, or give the socket with --socket",
		e.Dir, e.Reason, e.Dir)
}

// Unwrap matches ErrUnsafeSocketDir and ErrForbidden (the tool's exit code
// for a refused control socket).
func (e *UnsafeDirError) Unwrap() []error { return []error{ErrUnsafeSocketDir, ErrForbidden} }

// CheckSocketPath refuses a socket path inside FallbackDir when that
// directory exists but is not private (see checkPrivateDir). A missing
// directory passes: there is nothing to connect to. Paths elsewhere are
// not checked.
func CheckSocketPath(path string) error {
	dir := FallbackDir()
	if !within(dir, path) {
		return nil
	}
	err := checkPrivateDir(dir, os.Geteuid())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// ensurePrivateDir creates dir with mode 0700 when missing and then checks
// that it is private: a directory someone else planted is refused.
func ensurePrivateDir(dir string, uid int) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create control socket directory: %w", err)
	}
	return checkPrivateDir(dir, uid)
}

// checkPrivateDir returns an *UnsafeDirError unless dir is a directory (not
// a symbolic link) owned by uid with no permissions for group or others.
func checkPrivateDir(dir string, uid int) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("control socket directory: %w", err)
	}
	var reason string
	st, _ := fi.Sys().(*syscall.Stat_t)
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		reason = "is a symbolic link, not a directory"
	case !fi.IsDir():
		reason = "is not a directory"
	case st == nil:
		reason = "has no owner information"
	case int(st.Uid) != uid:
		reason = fmt.Sprintf("belongs to uid %d, not to uid %d", st.Uid, uid)
	case fi.Mode().Perm()&0o077 != 0:
		reason = fmt.Sprintf("has mode %04o, not 0700", fi.Mode().Perm())
	default:
		return nil
	}
	return &UnsafeDirError{Dir: dir, Reason: reason}
}

// within reports whether path lies below dir.
func within(dir, path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(filepath.Clean(dir), abs)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
