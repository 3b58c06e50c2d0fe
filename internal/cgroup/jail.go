package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Worker cgroups.
//
// Every worker runs in a cgroup of its own, "<host dir>/<pool>/w<id>", so
// that stopping it kills everything it started, processes that left its
// process group (setsid, double fork) included, and a host that starts after
// one that was killed (SIGKILL) can find and kill what that one left.
// [DetectJails] picks the hierarchy:
//
//   - the CPU hierarchy when it is cgroup v2: a process has one v2 cgroup,
//     so a worker's cgroup must sit inside its pool's CPU cgroup;
//   - else a writable cgroup v2 hierarchy, controllers or not
//     ([Group.Kill] writes cgroup.kill, Linux ≥ 5.14; a process can be
//     started right in it with clone3 CLONE_INTO_CGROUP, Linux ≥ 5.7);
//   - else a writable cgroup v1 hierarchy: pids, freezer, then cpu (the
//     CPU root itself, so the worker cgroup is below the pool's CPU cgroup).
//     Kill then walks cgroup.procs with SIGKILL until it is empty.
//
// Hosts are kept apart by the "h<pid>" directory; [DetectJails] and
// [Detect] kill the processes left in the directories of hosts that no
// longer run and remove those directories ([Root.Swept] counts them).

// killRounds bounds the rounds of [Group.Kill]'s walk over cgroup.procs
// (a variable for tests).
var killRounds = 200

// killPause is the pause between two rounds of Kill's walk.
const killPause = 10 * time.Millisecond

// ErrNotEmpty says processes remained in a cgroup after Kill's last round.
var ErrNotEmpty = errors.New("processes remain in the cgroup")

// jailV1Order lists the v1 controllers a worker cgroup may use, preferred
// first.
var jailV1Order = []string{"pids", "freezer", "cpu"}

// DetectJails returns the hierarchy for worker cgroups (see above); cpu is
// the CPU root from [Detect], nil when there is none. It returns cpu itself
// when the worker cgroups belong below the pools' CPU cgroups, and
// ErrUnsupported (wrapped, with the reasons) when no hierarchy is writable.
func DetectJails(cpu *Root) (*Root, error) {
	if cpu != nil && cpu.Version == V2 {
		return cpu, nil
	}
	ms, own2, own1, err := readSelf()
	if err != nil {
		return nil, err
	}
	var why []string
	for _, m := range ms {
		if m.fstype != "cgroup2" {
			continue
		}
		r, err := prepareHostDir(V2, within(m, own2))
		if err == nil {
			return r, nil
		}
		why = append(why, "cgroup v2: "+err.Error())
	}
	for _, c := range jailV1Order {
		for _, m := range ms {
			if m.fstype != "cgroup" || !has(m.options, c) {
				continue
			}
			if c == "cpu" && cpu != nil {
				return cpu, nil
			}
			r, err := prepareHostDir(V1, within(m, own1[c]))
			if err == nil {
				return r, nil
			}
			why = append(why, "cgroup v1 "+c+": "+err.Error())
		}
	}
	if len(why) == 0 {
		why = append(why, "no cgroup hierarchy is mounted")
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, strings.Join(why, "; "))
}

// prepareHostDir creates <own>/poolctl/h<pid> after killing and removing
// the leftovers of hosts that are gone.
func prepareHostDir(v Version, own string) (*Root, error) {
	base := filepath.Join(own, "poolctl")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", own, err)
	}
	swept := sweep(v, base)
	dir := filepath.Join(base, "h"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("%s: %w", own, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "cgroup.procs")); err != nil {
		return nil, fmt.Errorf("%s is not a cgroup: %w", dir, err)
	}
	return &Root{Version: v, Dir: dir, Swept: swept}, nil
}

// Close removes the host's directory once it is empty (its pools' and
// workers' cgroups removed); it is created again when needed.
func (r *Root) Close() error {
	if err := os.Remove(r.Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", r.Dir, err)
	}
	return nil
}

// poolDir is the directory name of a pool's cgroup.
func (r *Root) poolDir(pool string) string {
	if r.Version == V2 {
		return "pool-" + Name(pool)
	}
	return Name(pool)
}

// Jail creates the cgroup of worker id of pool: "<pool>/w<id>" below the
// root, the pool's directory created when missing.
func (r *Root) Jail(pool string, id int) (*Group, error) {
	dir := filepath.Join(r.Dir, r.poolDir(pool), "w"+strconv.Itoa(id))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create the cgroup of worker %d of apppool %q: %w", id, pool, err)
	}
	return &Group{Version: r.Version, Dir: dir, leaf: true}, nil
}

// PoolGroup returns the pool's directory of the root as a group (for
// removal at pool close), without creating it.
func (r *Root) PoolGroup(pool string) *Group {
	return &Group{Version: r.Version, Dir: filepath.Join(r.Dir, r.poolDir(pool))}
}

// Open opens the group's directory for clone3's CLONE_INTO_CGROUP
// (syscall.SysProcAttr.CgroupFD); v2 only. The caller closes the file.
func (g *Group) Open() (*os.File, error) {
	if g.Version != V2 {
		return nil, fmt.Errorf("open %s: starting a process in a cgroup needs cgroup v2: %w", g.Dir, ErrUnsupported)
	}
	f, err := os.OpenFile(g.Dir, os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup: %w", err)
	}
	return f, nil
}

// Kill kills every process in the group and in the groups below it and
// returns once they have all left: v2 writes cgroup.kill (which also
// catches processes forking meanwhile), then, like v1, sends SIGKILL to
// every pid in cgroup.procs, round after round (at most 200), until
// none is left. It returns ErrNotEmpty (wrapped) when some remain.
func (g *Group) Kill() (killed int, err error) {
	if g.Version == V2 {
		if err := writeFile(filepath.Join(g.Dir, "cgroup.kill"), "1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("kill %s: %w", g.Dir, err)
		}
	}
	return killWalk(g.Dir, killRounds)
}

// killWalk sends SIGKILL to every process in dir and the cgroups below it
// until none is left, for at most rounds rounds. A missing dir is empty.
func killWalk(dir string, rounds int) (killed int, err error) {
	seen := map[int]bool{}
	for range rounds {
		pids, err := treeProcs(dir)
		if err != nil {
			return len(seen), err
		}
		if len(pids) == 0 {
			return len(seen), nil
		}
		for _, pid := range pids {
			if pid > 0 && syscall.Kill(pid, syscall.SIGKILL) == nil {
				seen[pid] = true
			}
		}
		time.Sleep(killPause)
	}
	return len(seen), fmt.Errorf("kill %s after %d rounds: %w", dir, rounds, ErrNotEmpty)
}

// treeProcs lists the pids in dir's cgroup.procs and in those of the
// cgroups below it. A cgroup that vanished meanwhile has none.
func treeProcs(dir string) ([]int, error) {
	var pids []int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		ps, err := readProcs(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		pids = append(pids, ps...)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the processes of %s: %w", dir, err)
	}
	return pids, nil
}

// removeTree removes dir and the cgroups below it, deepest first (a cgroup
// directory goes with rmdir once its children are gone; its control files
// go with it). The first failure is returned.
func removeTree(dir string) error {
	var dirs []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	var first error
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil && !errors.Is(err, fs.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// sweepBudget bounds the time sweep spends on the leftovers of hosts that
// are gone: it runs before the host starts its pools. What it cannot kill
// and remove within it stays for the next sweep.
const sweepBudget = 5 * time.Second

// sweep kills the processes left in the h<pid> directories under base of
// hosts that no longer run (this process's own pid included: see below)
// and removes those directories; it returns how many processes it killed.
func sweep(v Version, base string) int {
	ents, err := os.ReadDir(base)
	if err != nil {
		return 0
	}
	n := 0
	deadline := time.Now().Add(sweepBudget)
	for _, e := range ents {
		if time.Now().After(deadline) {
			break
		}
		pid, err := strconv.Atoi(strings.TrimPrefix(e.Name(), "h"))
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "h") || err != nil || pid <= 0 {
			continue
		}
		// A directory named after this process is a dead host's whose pid
		// was reused: the host prepares its directory once, before it
		// starts anything.
		if pid != os.Getpid() && !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue // that host still runs (or we cannot tell)
		}
		dir := filepath.Join(base, e.Name())
		if v == V2 {
			_ = writeFile(filepath.Join(dir, "cgroup.kill"), "1")
		}
		rounds := max(int(time.Until(deadline)/killPause), 1)
		k, _ := killWalk(dir, min(rounds, killRounds))
		n += k
		_ = removeTree(dir)
	}
	return n
}
