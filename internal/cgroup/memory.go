package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Memory cgroups of workers, so that the kernel tells the host the moment
// a worker crosses its memory limit (recycling.periodicRestart
// privateMemory) instead of the host finding out at its next /proc sample.
//
// [DetectMemory] picks the hierarchy:
//
//   - cgroup v2 when the worker cgroups are v2 ([DetectJails]) and the
//     memory controller can be enabled down to them: the worker's own
//     cgroup is watched. [Group.WatchMemory] sets memory.high to the
//     threshold and watches memory.events (inotify): its "high" count grows
//     each time the group goes over.
//   - else a writable cgroup v1 memory hierarchy: the worker is also placed
//     in "<memory mount>/<own>/poolctl/h<host pid>/<pool>/w<id>" and
//     [Group.WatchMemory] registers an eventfd for a memory.usage_in_bytes
//     threshold through cgroup.event_control; the kernel signals it when
//     the usage crosses the threshold.
//   - else none (ErrNoMemoryController): the host samples /proc.
//
// A watch holds one descriptor (the eventfd, or the inotify instance),
// closed by [MemoryWatch.Close].

// ErrNoMemoryController says no writable cgroup hierarchy with the memory
// controller and its notifications is available.
var ErrNoMemoryController = errors.New("no writable cgroup hierarchy with the memory controller")

// DetectMemory returns the hierarchy for worker memory cgroups (see above).
// jails is the worker cgroups' root from [DetectJails] (nil when there is
// none); DetectMemory returns it when it is v2 with the memory controller.
func DetectMemory(jails *Root) (*Root, error) {
	var why []string
	if jails != nil && jails.Version == V2 {
		err := enableMemoryV2(jails.Dir)
		if err == nil {
			return jails, nil
		}
		why = append(why, "cgroup v2: "+err.Error())
	}
	ms, _, own1, err := readSelf()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoMemoryController, err)
	}
	for _, m := range ms {
		if m.fstype != "cgroup" || !has(m.options, "memory") {
			continue
		}
		r, err := prepareHostDir(V1, within(m, own1["memory"]))
		if err == nil {
			if _, err = os.Stat(filepath.Join(r.Dir, "cgroup.event_control")); err == nil {
				return r, nil
			}
		}
		why = append(why, "cgroup v1 memory: "+err.Error())
	}
	if len(why) == 0 {
		why = append(why, "no cgroup mount carries the memory controller")
	}
	return nil, fmt.Errorf("%w: %s", ErrNoMemoryController, strings.Join(why, "; "))
}

// enableMemoryV2 enables the memory controller for the pools below the
// host's v2 directory dir (and in its parent, <own>/poolctl), which holds
// no process.
func enableMemoryV2(dir string) error {
	// <own> itself may hand memory down once the host left it for a leaf
	// (cgroup.go, prepareV2); where the host still lives there this fails
	// and the check below says why.
	_ = writeFile(filepath.Join(filepath.Dir(filepath.Dir(dir)), "cgroup.subtree_control"), "+memory")
	ctl, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "cgroup.controllers"))
	if err != nil {
		return err
	}
	if !has(strings.Fields(string(ctl)), "memory") {
		return fmt.Errorf("the memory controller is not available in %s (under systemd, set Delegate=yes)", filepath.Dir(dir))
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := writeFile(filepath.Join(d, "cgroup.subtree_control"), "+memory"); err != nil {
			return fmt.Errorf("enable memory for %s: %w", d, err)
		}
	}
	return nil
}

// MemoryGroup returns the memory cgroup of worker id of pool: on v2 its
// worker cgroup ([Root.Jail], with the memory controller enabled in the
// pool's directory), on v1 a new group below the root, into which the
// caller moves the worker ([Group.Add]).
func (r *Root) MemoryGroup(pool string, id int) (*Group, error) {
	g, err := r.Jail(pool, id)
	if err != nil {
		return nil, err
	}
	if r.Version == V2 {
		if err := writeFile(filepath.Join(filepath.Dir(g.Dir), "cgroup.subtree_control"), "+memory"); err != nil {
			return nil, fmt.Errorf("enable memory for the workers of apppool %q: %w", pool, err)
		}
		if _, err := os.Stat(filepath.Join(g.Dir, "memory.events")); err != nil {
			return nil, fmt.Errorf("memory cgroup of worker %d of apppool %q: %w", id, pool, err)
		}
	}
	return g, nil
}

// MemoryUsage returns the memory the group's processes are charged for:
// v1 memory.usage_in_bytes, v2 memory.current.
func (g *Group) MemoryUsage() (uint64, error) {
	name := "memory.usage_in_bytes"
	if g.Version == V2 {
		name = "memory.current"
	}
	b, err := os.ReadFile(filepath.Join(g.Dir, name))
	if err != nil {
		return 0, fmt.Errorf("read memory usage: %w", err)
	}
	n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("read memory usage of %s: %w", g.Dir, err)
	}
	return n, nil
}

// MemoryWatch is one registered memory threshold of a group (see
// [Group.WatchMemory]). Wait and Close may be called from different
// goroutines; Wait from one goroutine at a time.
type MemoryWatch struct {
	version Version
	dir     string
	f       *os.File // v1: the eventfd; v2: the inotify instance
	high    uint64   // v2: the "high" count of memory.events last seen
}

// WatchMemory asks the kernel to report when the group's memory use
// crosses threshold bytes (v1: in either direction; v2: each time it goes
// over memory.high, set to threshold, which also makes the kernel reclaim
// and throttle above it). A use already over the threshold is reported by
// neither: compare [Group.MemoryUsage] after arming.
func (g *Group) WatchMemory(threshold uint64) (*MemoryWatch, error) {
	switch g.Version {
	case V1:
		return watchV1(g.Dir, threshold)
	case V2:
		return watchV2(g.Dir, threshold)
	}
	return nil, ErrNoMemoryController
}

// watchV1 registers an eventfd threshold on memory.usage_in_bytes.
func watchV1(dir string, threshold uint64) (*MemoryWatch, error) {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("memory threshold of %s: eventfd: %w", dir, err)
	}
	f := os.NewFile(uintptr(efd), "memory threshold")
	ufd, err := unix.Open(filepath.Join(dir, "memory.usage_in_bytes"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("memory threshold of %s: %w", dir, err)
	}
	// The registration holds no reference to the usage file: it is
	// closed at once; the event lives until the eventfd is closed or the
	// cgroup is removed.
	err = writeFile(filepath.Join(dir, "cgroup.event_control"), fmt.Sprintf("%d %d %d", efd, ufd, threshold))
	_ = unix.Close(ufd)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("memory threshold of %s: cgroup.event_control: %w", dir, err)
	}
	return &MemoryWatch{version: V1, dir: dir, f: f}, nil
}

// watchV2 sets memory.high and watches memory.events with inotify.
func watchV2(dir string, threshold uint64) (*MemoryWatch, error) {
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("memory threshold of %s: inotify: %w", dir, err)
	}
	f := os.NewFile(uintptr(ifd), "memory events")
	events := filepath.Join(dir, "memory.events")
	if _, err := unix.InotifyAddWatch(ifd, events, unix.IN_MODIFY); err != nil {
		f.Close()
		return nil, fmt.Errorf("memory threshold of %s: watch memory.events: %w", dir, err)
	}
	w := &MemoryWatch{version: V2, dir: dir, f: f}
	if w.high, err = readHighCount(events); err != nil {
		f.Close()
		return nil, err
	}
	if err := setHigh(dir, strconv.FormatUint(threshold, 10)); err != nil {
		f.Close()
		return nil, fmt.Errorf("memory threshold of %s: memory.high: %w", dir, err)
	}
	return w, nil
}

// Wait blocks until the kernel reports a crossing. After Close it returns
// an error wrapping os.ErrClosed (a Wait in progress returns too).
func (w *MemoryWatch) Wait() error {
	if w.version == V1 {
		var b [8]byte
		if _, err := w.f.Read(b[:]); err != nil {
			return fmt.Errorf("memory threshold of %s: %w", w.dir, err)
		}
		return nil
	}
	buf := make([]byte, 4096)
	for {
		if _, err := w.f.Read(buf); err != nil {
			return fmt.Errorf("memory events of %s: %w", w.dir, err)
		}
		n, err := readHighCount(filepath.Join(w.dir, "memory.events"))
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("memory events of %s: %w", w.dir, err)
		}
		if err == nil && n > w.high { // a file caught mid-write says nothing
			w.high = n
			return nil
		}
	}
}

// WaitFor is Wait bounded by d: when the kernel reports nothing within d
// it returns an error wrapping os.ErrDeadlineExceeded.
func (w *MemoryWatch) WaitFor(d time.Duration) error {
	if err := w.f.SetReadDeadline(time.Now().Add(d)); err != nil {
		return fmt.Errorf("memory watch of %s: %w", w.dir, err)
	}
	defer func() { _ = w.f.SetReadDeadline(time.Time{}) }()
	return w.Wait()
}

// Close ends the watch and releases its descriptor; on v2 memory.high goes
// back to "max", so the group is no longer throttled. Closing twice is
// harmless.
func (w *MemoryWatch) Close() error {
	err := w.f.Close()
	if errors.Is(err, os.ErrClosed) {
		return nil
	}
	if w.version == V2 {
		if herr := setHigh(w.dir, "max"); herr != nil && !errors.Is(herr, fs.ErrNotExist) && err == nil {
			err = herr
		}
	}
	if err != nil {
		return fmt.Errorf("close the memory watch of %s: %w", w.dir, err)
	}
	return nil
}

// readHighCount returns the "high" count of a v2 memory.events file.
func readHighCount(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read memory events: %w", err)
	}
	return parseHighCount(string(b))
}

// parseHighCount returns the "high" count of memory.events text.
func parseHighCount(text string) (uint64, error) {
	v, ok := flatKey(text, "high")
	if !ok {
		return 0, errors.New("no high count in memory.events")
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("memory.events high %q: %w", v, err)
	}
	return n, nil
}

// setHigh writes v2 memory.high.
func setHigh(dir, v string) error { return writeFile(filepath.Join(dir, "memory.high"), v) }
