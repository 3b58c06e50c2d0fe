package apppool

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/poolctl/poolctl/internal/proc"
)

// Unix-socket workers (processModel.listen unix).
//
// A worker of such a pool gets the path of a unix socket in POOLCTL_LISTEN
// and no PORT: <run dir>/<pool>/w<id>.sock, where the run directory is
// Launcher.RunDir (the host's <state dir>/run, mode 0711, the host's) and
// the pool's directory is the pool identity's alone (mode 0700, owned by
// its uid, so the worker can create its socket there and no other pool's
// uid can enter). The host, root or the workers' own user, connects
// anyway. The built-in worker binds the path itself too (no inherited
// descriptor) and makes the socket 0600.
//
// Readiness waits until the path holds a socket owned by the worker's uid
// and a health check through it passes; the host then keeps the socket
// pinned (proc.UnixSocket: every request, health check and ping goes
// through the pinned inode, never through whatever the worker may put at
// the path later, like a symbolic link to another socket). The host
// removes a stale file at the path before the worker starts, and the
// socket file once the worker has exited. Recycles overlap as with TCP:
// the replacement has its own id, so its own path.

// ListenTCP and ListenUnix are the values of processModel.listen.
const (
	ListenTCP  = "tcp"
	ListenUnix = "unix"
)

// listensUnix reports whether the pool's workers listen on unix sockets.
func listensUnix(s *Settings) bool {
	pm := s.Resolved.ProcessModel
	return pm != nil && pm.Listen != nil && strings.EqualFold(*pm.Listen, ListenUnix)
}

// runDir is where the pools' socket directories go: Launcher.RunDir, or
// "run" beside the log directory (<state dir>/run for a host).
func (l *Launcher) runDir() (string, error) {
	if l.RunDir != "" {
		return l.RunDir, nil
	}
	if l.LogDir != "" {
		return filepath.Join(filepath.Dir(filepath.Clean(l.LogDir)), "run"), nil
	}
	return "", errors.New("the host has no directory for unix sockets (Launcher.RunDir)")
}

// socketDirName is the name of a pool's socket directory: the name its
// home directory and log have, or, when that is not one plain path element
// or would make the socket path too long for bind(2), "p-" and a digest of
// the pool's name.
func socketDirName(pool string, room int) string {
	name := homeName(pool)
	if plainName(name) && len(name) <= room {
		return name
	}
	sum := sha256.Sum256([]byte(strings.ToLower(pool)))
	return "p-" + hex.EncodeToString(sum[:8])
}

// socketPath prepares the socket directory of the pool's identity and
// returns the socket path of worker id, with whatever an earlier worker or
// host left at that path removed.
func (p *Pool) socketPath(s *Settings, ident *Identity, id int) (string, error) {
	run, err := p.launcher.runDir()
	if err != nil {
		return "", err
	}
	file := "w" + strconv.Itoa(id) + ".sock"
	room := proc.MaxUnixPath - len(run) - len(file) - 2
	dir := filepath.Join(run, socketDirName(s.Name, room))
	path := filepath.Join(dir, file)
	if len(path) > proc.MaxUnixPath {
		return "", fmt.Errorf("the socket path %s is %d bytes, longer than the %d a unix socket path may have: use a shorter --state-dir",
			path, len(path), proc.MaxUnixPath)
	}
	uid, gid := socketOwner(ident)
	// 0711 for the run directory, 0700 and the identity's for the pool's;
	// symbolic links are refused (identity.go).
	if err := ownDir(run, filepath.Base(dir), uid, gid); err != nil {
		return "", fmt.Errorf("socket directory: %w", err)
	}
	if err := reachable(run, uid, gid); err != nil {
		return "", err
	}
	// The run directory is the host's, so the pool's directory cannot be
	// swapped under this path, and unlink never follows a link.
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("remove the stale socket %s: %w", path, err)
	}
	return path, nil
}

// socketOwner is the uid and gid a worker of the identity runs as.
func socketOwner(ident *Identity) (uid, gid uint32) {
	if c := ident.Credential(); c != nil {
		return c.Uid, c.Gid
	}
	return uint32(os.Geteuid()), uint32(os.Getegid())
}

// waitReadyUnix waits for a unix-socket worker (see above) and keeps its
// socket pinned in w.
func (p *Pool) waitReadyUnix(ctx context.Context, w *Worker, path string, ident *Identity, pingPath string) error {
	uid, _ := socketOwner(ident)
	sock, err := w.proc.WaitReadyUnix(ctx, path, int(uid), pingPath)
	if err != nil {
		return err
	}
	w.sock = sock
	return nil
}

// releaseListen lets the worker's socket go once it has exited (or failed
// its start-up): the pin is closed and the socket file removed. A TCP
// worker's port lease is released. Calling it twice is harmless.
func (w *Worker) releaseListen() {
	w.lease.Release()
	if w.sockPath == "" {
		return
	}
	if w.sock != nil {
		_ = w.sock.Close()
	}
	_ = os.Remove(w.sockPath)
}

// check runs one health check of the worker: through its pinned socket,
// or of its TCP address.
func (w *Worker) check(ctx context.Context, pingPath string) error {
	if w.sock != nil {
		return w.sock.Check(ctx, pingPath)
	}
	return proc.Check(ctx, w.Addr, pingPath)
}

// reachable makes the run directory 0711 and checks that uid may pass
// through it and every directory above it, which the worker needs to bind
// its socket: a state directory only root may enter would make every
// unix-socket worker of another uid fail at bind with a bare EACCES.
func reachable(run string, uid, gid uint32) error {
	if err := os.Chmod(run, 0o711); err != nil {
		return fmt.Errorf("socket directory %s: %w", run, err)
	}
	if int(uid) == os.Geteuid() || uid == 0 {
		return nil // the host's own user (or root) passes where the host does
	}
	for d := filepath.Dir(run); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("socket directory: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		perm := fi.Mode().Perm()
		if ok && perm&0o001 == 0 && !(st.Uid == uid && perm&0o100 != 0) && !(st.Gid == gid && perm&0o010 != 0) {
			return fmt.Errorf("unix-socket workers run as uid %d, which may not pass through %s (mode %04o): "+
				"give others search permission on it (chmod o+x) or use another --state-dir", uid, d, fi.Mode().Perm())
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
