package host

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watch reconciles on SIGHUP and when the store file changes (a hand edit,
// or a tool that could not reach the socket). It watches the directory,
// since each write replaces the store's inode, and debounces bursts.
func (h *Host) watch(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	var changes <-chan fsnotify.Event
	w, err := fsnotify.NewWatcher()
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
			_ = h.Reconcile(ctx)
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
			_ = h.Reconcile(ctx)
		}
	}
}
