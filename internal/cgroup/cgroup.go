// Package cgroup manages the per-pool CPU cgroups of the poolctl host with
// plain file operations on cgroupfs (no library).
//
// [Detect] picks the hierarchy: cgroup v2 when the host's own v2 cgroup
// offers the cpu controller (cgroup.controllers), else a writable cgroup v1
// mount carrying the cpu controller, else none. A [Root] then creates one
// [Group] per pool:
//
//   - v2: under the host's own cgroup (under systemd the unit needs
//     Delegate=yes). The no-internal-process rule forbids enabling a
//     controller for the children of a cgroup that holds processes, so the
//     host first moves itself into a leaf "<own>/poolctl-host", enables
//     "+cpu" in "<own>/cgroup.subtree_control" (and in those of
//     "<own>/poolctl" and "<own>/poolctl/h<host pid>"), and creates the
//     pools as "<own>/poolctl/h<host pid>/pool-<name>".
//   - v1: "<cpu mount>/poolctl/h<host pid>/<name>". The host pid keeps
//     hosts (and parallel tests) apart.
//
// Leftovers of hosts that are gone (h<pid> directories whose host no
// longer runs) are killed and removed by [Detect] (see jail.go, which also
// places every worker in a cgroup of its own).
//
// A group can hold a hard cap ([Group.SetMax]: v2 cpu.max, v1
// cpu.cfs_quota_us/cpu.cfs_period_us) or a relative weight
// ([Group.SetWeight]: v2 cpu.weight, v1 cpu.shares), and report the CPU
// time used by its processes ([Group.Usage]: v2 cpu.stat usage_usec, v1
// cpuacct.usage when cpuacct is mounted with cpu).
//
// Workers also get a memory cgroup where one is writable, so that the
// kernel reports the moment a worker crosses its memory limit (memory.go:
// v2 memory.high and memory.events, or v1 memory.usage_in_bytes thresholds
// through cgroup.event_control).
package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Version is the cgroup hierarchy in use.
type Version int

// The hierarchies.
const (
	None Version = iota // no usable cgroup hierarchy
	V1                  // legacy: a cpu controller mount
	V2                  // unified
)

// String names the version.
func (v Version) String() string {
	switch v {
	case V1:
		return "cgroup v1"
	case V2:
		return "cgroup v2"
	}
	return "none"
}

// ErrUnsupported says no writable cgroup hierarchy with a cpu controller
// is available.
var ErrUnsupported = errors.New("no writable cgroup hierarchy with the cpu controller")

// DefaultPeriod is the CFS period the host sets with a cap, in
// microseconds (the kernel's default, 100 ms).
const DefaultPeriod = 100000

// Root is where the host creates its pools' cgroups.
type Root struct {
	Version Version
	// Dir is the parent directory of the pools' cgroups.
	Dir string
	// Swept is how many processes left by hosts that are gone were killed
	// when the root was prepared.
	Swept int
	// acct reports whether v1 cpuacct files sit next to the cpu files.
	acct bool
}

// mount is one cgroup mount of /proc/self/mountinfo.
type mount struct {
	point   string
	fstype  string // cgroup or cgroup2
	root    string // the mount's root within the hierarchy
	options []string
}

// parseMountinfo returns the cgroup and cgroup2 mounts of a mountinfo
// file's text.
func parseMountinfo(text string) []mount {
	var ms []mount
	for line := range strings.SplitSeq(text, "\n") {
		// id parent major:minor root point options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 5 || len(g) < 3 {
			continue
		}
		if g[0] != "cgroup" && g[0] != "cgroup2" {
			continue
		}
		ms = append(ms, mount{point: unescape(f[4]), fstype: g[0], root: unescape(f[3]),
			options: append(strings.Split(f[5], ","), strings.Split(g[2], ",")...)})
	}
	return ms
}

// unescape undoes mountinfo's octal escapes (\040 for a space ...).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// parseProcCgroup returns the v2 path ("0::<path>") and the v1 path of
// each controller of a /proc/<pid>/cgroup file's text.
func parseProcCgroup(text string) (v2 string, v1 map[string]string) {
	v1 = map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(text), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			v2 = parts[2]
			continue
		}
		for c := range strings.SplitSeq(parts[1], ",") {
			v1[c] = parts[2]
		}
	}
	return v2, v1
}

// readSelf reads this process's cgroup mounts and its own cgroup paths:
// the v2 path and the v1 path of each controller.
func readSelf() (ms []mount, own2 string, own1 map[string]string, err error) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	pc, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, "", nil, fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	own2, own1 = parseProcCgroup(string(pc))
	return parseMountinfo(string(mi)), own2, own1, nil
}

// Detect finds the hierarchy to use and prepares the host's parent cgroup.
// It returns ErrUnsupported (wrapped, with the reason) when there is none.
func Detect() (*Root, error) {
	ms, own2, own1, err := readSelf()
	if err != nil {
		return nil, err
	}
	var why []string
	for _, m := range ms {
		if m.fstype != "cgroup2" {
			continue
		}
		r, err := prepareV2(m, own2)
		if err == nil {
			return r, nil
		}
		why = append(why, err.Error())
	}
	for _, m := range ms {
		if m.fstype != "cgroup" || !has(m.options, "cpu") {
			continue
		}
		r, err := prepareV1(m, own1["cpu"])
		if err == nil {
			return r, nil
		}
		why = append(why, err.Error())
	}
	if len(why) == 0 {
		why = append(why, "no cgroup mount carries the cpu controller")
	}
	return nil, fmt.Errorf("%w: %s", ErrUnsupported, strings.Join(why, "; "))
}

// within maps a cgroup path of /proc/self/cgroup to a directory of mount m.
func within(m mount, cg string) string {
	rel := cg
	if m.root != "/" {
		rel = strings.TrimPrefix(cg, m.root)
	}
	return filepath.Join(m.point, filepath.Clean("/"+rel))
}

// prepareV2 readies the host's own v2 cgroup for pool children.
func prepareV2(m mount, own string) (*Root, error) {
	dir := within(m, own)
	ctl, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if !has(strings.Fields(string(ctl)), "cpu") {
		return nil, fmt.Errorf("cgroup v2: the cpu controller is not available in %s (under systemd, set Delegate=yes)", dir)
	}
	sub, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	if !has(strings.Fields(string(sub)), "cpu") {
		// Leave the cgroup so its controllers can be handed down.
		leaf := filepath.Join(dir, "poolctl-host")
		if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("cgroup v2: %w", err)
		}
		if err := writeFile(filepath.Join(leaf, "cgroup.procs"), strconv.Itoa(os.Getpid())); err != nil {
			return nil, fmt.Errorf("cgroup v2: move the host into %s: %w", leaf, err)
		}
		if err := writeFile(filepath.Join(dir, "cgroup.subtree_control"), "+cpu"); err != nil {
			return nil, fmt.Errorf("cgroup v2: enable cpu for %s: %w", dir, err)
		}
	}
	r, err := prepareHostDir(V2, dir)
	if err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	// Hand cpu down to the pools: <own>/poolctl and its h<pid> hold no
	// process, so the no-internal-process rule allows it.
	for _, d := range []string{filepath.Dir(r.Dir), r.Dir} {
		if err := writeFile(filepath.Join(d, "cgroup.subtree_control"), "+cpu"); err != nil {
			return nil, fmt.Errorf("cgroup v2: enable cpu for %s: %w", d, err)
		}
	}
	return r, nil
}

// prepareV1 creates <mount>/poolctl/h<pid> on a v1 cpu hierarchy.
func prepareV1(m mount, own string) (*Root, error) {
	r, err := prepareHostDir(V1, within(m, own))
	if err != nil {
		return nil, fmt.Errorf("cgroup v1 %s: %w", m.point, err)
	}
	_, err = os.Stat(filepath.Join(r.Dir, "cpuacct.usage"))
	r.acct = err == nil
	return r, nil
}

// Name turns a pool name into a cgroup directory name: letters, digits,
// '-', '_' and '.' are kept, every other byte becomes '_' followed by its
// hex value, so distinct pool names stay distinct.
func Name(pool string) string {
	var b strings.Builder
	for i := 0; i < len(pool); i++ {
		c := pool[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return b.String()
}

// Group is one pool's cgroup, or one worker's (Root.Jail).
type Group struct {
	Version Version
	Dir     string
	acct    bool
	leaf    bool // a worker's: Remove leaves the pool's directory alone
}

// Create creates (or reuses) the cgroup of a pool.
func (r *Root) Create(pool string) (*Group, error) {
	dir := filepath.Join(r.Dir, r.poolDir(pool))
	// Remove (and Root.Close) take the host's directory away with its
	// last pool.
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create cgroup for apppool %q: %w", pool, err)
	}
	if r.Version == V2 {
		if err := writeFile(filepath.Join(r.Dir, "cgroup.subtree_control"), "+cpu"); err != nil {
			return nil, fmt.Errorf("create cgroup for apppool %q: enable cpu for %s: %w", pool, r.Dir, err)
		}
	}
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create cgroup for apppool %q: %w", pool, err)
	}
	return &Group{Version: r.Version, Dir: dir, acct: r.acct}, nil
}

// Add moves a process (all its threads) into the group. Processes it
// forks afterwards are born in the group.
func (g *Group) Add(pid int) error {
	if err := writeFile(filepath.Join(g.Dir, "cgroup.procs"), strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("add pid %d to %s: %w", pid, g.Dir, err)
	}
	return nil
}

// Quota returns the cap, in microseconds of CPU time per DefaultPeriod,
// for a limit in 1/1000 of a percent of one CPU (20000 = 20 %): the limit
// itself, at least the kernel's minimum of 1000 µs. 0 means no cap.
func Quota(limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	q := limit * DefaultPeriod / 100000
	return max(q, 1000)
}

// SetMax caps the group at quota µs of CPU time per period µs; quota 0
// removes the cap.
func (g *Group) SetMax(quota, period int64) error {
	var err error
	switch g.Version {
	case V2:
		v := "max " + strconv.FormatInt(period, 10)
		if quota > 0 {
			v = strconv.FormatInt(quota, 10) + " " + strconv.FormatInt(period, 10)
		}
		err = writeFile(filepath.Join(g.Dir, "cpu.max"), v)
	case V1:
		q := int64(-1)
		if quota > 0 {
			q = quota
		}
		// Lower the quota first: the kernel rejects a period change that
		// would make the existing quota exceed a parent's.
		err = writeFile(filepath.Join(g.Dir, "cpu.cfs_quota_us"), "-1")
		if err == nil {
			err = writeFile(filepath.Join(g.Dir, "cpu.cfs_period_us"), strconv.FormatInt(period, 10))
		}
		if err == nil {
			err = writeFile(filepath.Join(g.Dir, "cpu.cfs_quota_us"), strconv.FormatInt(q, 10))
		}
	default:
		err = ErrUnsupported
	}
	if err != nil {
		return fmt.Errorf("set cpu cap of %s: %w", g.Dir, err)
	}
	return nil
}

// Weight returns the relative weight for a limit in 1/1000 of a percent
// (100000 = the default weight): v2 cpu.weight (1..10000, default 100) or
// v1 cpu.shares (2..262144, default 1024). 0 means the default.
func Weight(v Version, limit int64) int64 {
	def, lo := int64(100), int64(1)
	if v == V1 {
		def, lo = 1024, 2
	}
	if limit <= 0 {
		return def
	}
	return max(limit*def/100000, lo)
}

// SetWeight sets the group's relative weight (see Weight).
func (g *Group) SetWeight(w int64) error {
	var err error
	switch g.Version {
	case V2:
		err = writeFile(filepath.Join(g.Dir, "cpu.weight"), strconv.FormatInt(w, 10))
	case V1:
		err = writeFile(filepath.Join(g.Dir, "cpu.shares"), strconv.FormatInt(w, 10))
	default:
		err = ErrUnsupported
	}
	if err != nil {
		return fmt.Errorf("set cpu weight of %s: %w", g.Dir, err)
	}
	return nil
}

// Usage returns the CPU time used by the group's processes since it was
// created. ok is false when the hierarchy cannot tell (v1 without
// cpuacct on the same mount).
func (g *Group) Usage() (d time.Duration, ok bool, err error) {
	switch {
	case g.Version == V2:
		b, err := os.ReadFile(filepath.Join(g.Dir, "cpu.stat"))
		if err != nil {
			return 0, false, fmt.Errorf("read cpu usage: %w", err)
		}
		us, err := parseCPUStat(string(b))
		if err != nil {
			return 0, false, fmt.Errorf("read cpu usage of %s: %w", g.Dir, err)
		}
		return time.Duration(us) * time.Microsecond, true, nil
	case g.Version == V1 && g.acct:
		b, err := os.ReadFile(filepath.Join(g.Dir, "cpuacct.usage"))
		if err != nil {
			return 0, false, fmt.Errorf("read cpu usage: %w", err)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("read cpu usage of %s: %w", g.Dir, err)
		}
		return time.Duration(ns), true, nil
	}
	return 0, false, nil
}

// parseCPUStat returns usage_usec of a v2 cpu.stat file's text.
func parseCPUStat(text string) (int64, error) {
	v, ok := flatKey(text, "usage_usec")
	if !ok {
		return 0, errors.New("no usage_usec in cpu.stat")
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("usage_usec %q: %w", v, err)
	}
	return n, nil
}

// flatKey returns the value of key in the text of a v2 flat-keyed file
// ("key value" lines: cpu.stat, memory.events), trimmed.
func flatKey(text, key string) (string, bool) {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " "); ok && k == key {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// Remove deletes the group once it holds no process. Processes that were
// just killed may take a moment to leave it, so it retries for up to about
// a second. A pool's group then tries to remove the host's directory too,
// which only succeeds once it is empty.
func (g *Group) Remove() error {
	var err error
	for range 20 {
		err = os.Remove(g.Dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			err = nil
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("remove cgroup: %w", err)
	}
	if !g.leaf {
		_ = os.Remove(filepath.Dir(g.Dir))
	}
	return nil
}

// Procs lists the pids in the group.
func (g *Group) Procs() ([]int, error) {
	pids, err := readProcs(g.Dir)
	if err != nil {
		return nil, fmt.Errorf("list cgroup processes: %w", err)
	}
	return pids, nil
}

// readProcs reads the pids listed in dir's cgroup.procs.
func readProcs(dir string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return nil, err
	}
	var pids []int
	for f := range strings.FieldsSeq(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids, nil
}

// writeFile writes one value to a cgroup control file (which must exist),
// truncating as a shell's > does, so that a plain file in tests holds the
// value alone.
func writeFile(path, v string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(v)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
