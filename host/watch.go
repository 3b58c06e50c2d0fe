package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watch reconciles on SIGHUP and when the store file changes (a hand edit,
// or a tool that could not reach the socket), and reopens the log files on
// SIGUSR1 (logs.go). It watches the directory, since each write replaces
// the store's inode, and debounces bursts. A host on a store in etcd
// watches etcd instead (farm_run.go): here only the signals.
func (h *Host) watch(ctx context.Context) {
	hup, usr1 := h.signals.hup, h.signals.usr1
	var changes <-chan fsnotify.Event
	w, err := fsnotify.NewWatcher()
	if h.farm != nil {
		err = errNoFile
	}
	if err == nil {
		defer w.Close()
		if err := w.Add(filepath.Dir(h.opts.StorePath)); err != nil {
			h.logger.Warn("cannot watch the store directory; reconcile with SIGHUP or the tool", "err", err)
		} else {
			changes = w.Events
		}
	}
	base := filepath.Base(h.opts.StorePath)
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			h.logger.Info("SIGHUP: reconciling with the store")
			h.reconcileWatched(ctx)
		case <-usr1:
			h.reopenLogs()
		case ev, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			if filepath.Base(ev.Name) == base && ev.Op&(fsnotify.Create|fsnotify.Write|fsnotify.Rename) != 0 {
				debounce = time.After(100 * time.Millisecond)
			}
		case <-debounce:
			debounce = nil
			h.reconcileWatched(ctx)
		}
	}
}

// reconcileWatched reconciles after a change of the store file or a
// SIGHUP. A store that is gone (removed by hand) is not recreated with the
// defaults, as loading it would, which would stop every other pool and
// site: the running configuration stays, and the next change reconciles. A store that does not load is reported by Reconcile, which
// keeps the running configuration too.
func (h *Host) reconcileWatched(ctx context.Context) {
	if h.farm != nil {
		h.pipe.request() // from etcd; a store that does not load keeps the running one
		return
	}
	if _, err := os.Lstat(h.opts.StorePath); errors.Is(err, fs.ErrNotExist) {
		h.logger.Error("store did not load; the running configuration stays", "err", fmt.Errorf("store %s is missing: restore it, or restore a backup", h.opts.StorePath))
		return
	}
	h.pipe.request() // the pipeline logs a store that does not load
}

// errNoFile: a store in etcd has no file to watch.
var errNoFile = errors.New("the store is not a file")

// signals are the host's SIGHUP and SIGUSR1, taken from Go's default
// action (which ends the process) before the host starts anything, so a
// reload or a logrotate during start-up is not fatal: signals that arrive
// before watch runs wait in the channels.
type signals struct {
	hup, usr1 chan os.Signal
}

func notifySignals() signals {
	s := signals{hup: make(chan os.Signal, 1), usr1: make(chan os.Signal, 1)}
	signal.Notify(s.hup, syscall.SIGHUP)
	signal.Notify(s.usr1, syscall.SIGUSR1)
	return s
}

func (s signals) stop() {
	signal.Stop(s.hup)
	signal.Stop(s.usr1)
}
