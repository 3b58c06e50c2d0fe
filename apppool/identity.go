package apppool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/poolctl/poolctl/events"
	"github.com/poolctl/poolctl/store"
)

// The reserved range of ApplicationPoolIdentity uids and gids: 65536 +
// (FNV-1a-32 of the lower-cased pool name mod 32768), i.e. 65536–98303. It
// lies between systemd's ranges (dynamic service users 61184–65519,
// container ranges from 524288) and below the start of the ranges useradd
// hands out in /etc/subuid and /etc/subgid (100000).
const (
	PoolIdentityFirst = 65536
	PoolIdentitySlots = 32768
	PoolIdentityLast  = PoolIdentityFirst + PoolIdentitySlots - 1
)

// Identity types of processModel.identityType.
const (
	IdentityAppPool        = "ApplicationPoolIdentity"
	IdentityNetworkService = "NetworkService"
	IdentityLocalService   = "LocalService"
	IdentityLocalSystem    = "LocalSystem"
	IdentitySpecificUser   = "SpecificUser"
)

// ErrIdentity means a pool's identity cannot be used (an unknown
// processModel.userName, a bad service account): the pool is disabled.
var ErrIdentity = errors.New("the application pool's identity is invalid")

// IdentityOptions are the host-wide identity settings.
type IdentityOptions struct {
	// ServiceUser is the account of NetworkService and LocalService; ""
	// means nobody.
	ServiceUser string
	// WorkerGroup is a supplementary group every worker gets unless its
	// pool sets processModel.manualGroupMembership (the IIS_IUSRS
	// analogue); "" for none.
	WorkerGroup string
	// HomeDir holds the home directories of ApplicationPoolIdentity
	// workers, one per pool (<state>/home).
	HomeDir string
}

// Identities resolves the identity workers run as. One value is shared by
// every pool of a host, so ApplicationPoolIdentity uids can be kept
// distinct; it is safe for concurrent use.
type Identities struct {
	opts IdentityOptions
	// canSwitch is false when the host is not root: workers then run as the
	// host's own user.
	canSwitch bool
	// uidTaken and gidTaken report whether an account or group with the id
	// exists on the system.
	uidTaken, gidTaken func(uint32) bool
	lookupUser         func(name string) (*user.User, error)
	lookupGroup        func(name string) (*user.Group, error)

	mu       sync.Mutex
	pools    []string          // lower-case names of every pool
	assigned map[string]uint32 // ApplicationPoolIdentity uid by lower-case name; nil = recompute
	warned   map[string]bool   // pools already logged as running as root
}

// NewIdentities returns the resolver of a host with these options.
func NewIdentities(opts IdentityOptions) *Identities {
	return &Identities{
		opts:      opts,
		canSwitch: os.Geteuid() == 0,
		uidTaken: func(id uint32) bool {
			_, err := user.LookupId(strconv.FormatUint(uint64(id), 10))
			return err == nil
		},
		gidTaken: func(id uint32) bool {
			_, err := user.LookupGroupId(strconv.FormatUint(uint64(id), 10))
			return err == nil
		},
		lookupUser:  user.Lookup,
		lookupGroup: user.LookupGroup,
		warned:      map[string]bool{},
	}
}

// CanSwitch reports whether the host can run workers under another
// identity (it runs as root).
func (ids *Identities) CanSwitch() bool { return ids != nil && ids.canSwitch }

// SetPools tells the resolver the names of every pool of the host, so that
// two pools never share an ApplicationPoolIdentity uid.
func (ids *Identities) SetPools(names []string) {
	if ids == nil {
		return
	}
	lower := make([]string, 0, len(names))
	for _, n := range names {
		lower = append(lower, strings.ToLower(n))
	}
	sort.Strings(lower)
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if strings.Join(lower, "\x00") != strings.Join(ids.pools, "\x00") {
		ids.pools, ids.assigned = lower, nil
	}
}

// identitySlot is where a pool's uid search starts: FNV-1a-32 of the
// lower-cased name modulo the size of the range.
func identitySlot(name string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(strings.ToLower(name)))
	return h.Sum32() % PoolIdentitySlots
}

// PoolUID returns the ApplicationPoolIdentity uid (and gid) of a pool.
//
// The rule: every pool starts at its slot (identitySlot) and takes the
// first slot, going up and wrapping around the range, whose uid is not an
// existing account, whose gid is not an existing group, and which no other
// pool took. Pools are placed in the order of their lower-cased names, so
// the result depends only on the set of pool names and the accounts of the
// system, never on which pool started first.
func (ids *Identities) PoolUID(pool string) (uint32, error) {
	key := strings.ToLower(pool)
	ids.mu.Lock()
	defer ids.mu.Unlock()
	if uid, ok := ids.assigned[key]; ok && !ids.uidTaken(uid) && !ids.gidTaken(uid) {
		return uid, nil
	}
	names := ids.pools
	if i := sort.SearchStrings(names, key); i >= len(names) || names[i] != key {
		names = append(append([]string{}, names...), key)
		sort.Strings(names)
	}
	assigned, err := assignPoolUIDs(names, ids.uidTaken, ids.gidTaken)
	if err != nil {
		return 0, err
	}
	ids.assigned = assigned
	return assigned[key], nil
}

// assignPoolUIDs places the (sorted, lower-case) pools in the range.
func assignPoolUIDs(names []string, uidTaken, gidTaken func(uint32) bool) (map[string]uint32, error) {
	out := make(map[string]uint32, len(names))
	used := map[uint32]bool{}
	for _, name := range names {
		start := identitySlot(name)
		found := false
		for i := uint32(0); i < PoolIdentitySlots; i++ {
			uid := PoolIdentityFirst + (start+i)%PoolIdentitySlots
			if used[uid] || uidTaken(uid) || gidTaken(uid) {
				continue
			}
			out[name], used[uid], found = uid, true, true
			break
		}
		if !found {
			return nil, fmt.Errorf("%w: no free uid left in %d-%d for apppool %q", ErrIdentity, PoolIdentityFirst, PoolIdentityLast, name)
		}
	}
	return out, nil
}

// Identity is who a worker runs as.
type Identity struct {
	Type   string   // processModel.identityType
	Name   string   // the user name, or apppool-<pool> for ApplicationPoolIdentity
	UID    uint32   // the uid
	GID    uint32   // the primary gid
	Groups []uint32 // supplementary groups
	Home   string   // HOME
	Shell  string   // SHELL
	// Switch is false when the host is not root and the worker runs as the
	// host's own user, whatever the pool asks.
	Switch bool
	// Profile says to set HOME, USER, LOGNAME and SHELL
	// (processModel.setProfileEnvironment).
	Profile bool
	// ownHome: the host creates Home and gives it to the identity.
	ownHome bool
}

// Credential is what the worker's process is started with; nil runs it as
// the host.
func (id *Identity) Credential() *syscall.Credential {
	if id == nil || !id.Switch {
		return nil
	}
	return &syscall.Credential{Uid: id.UID, Gid: id.GID, Groups: append([]uint32{}, id.Groups...)}
}

// Env is HOME, USER, LOGNAME and SHELL of the identity, or nothing when
// setProfileEnvironment is false.
func (id *Identity) Env() []string {
	if id == nil || !id.Profile {
		return nil
	}
	return []string{"HOME=" + id.Home, "USER=" + id.Name, "LOGNAME=" + id.Name, "SHELL=" + id.Shell}
}

// String is the identity as `list wp` shows it.
func (id *Identity) String() string {
	if id == nil {
		return ""
	}
	name := id.Name
	if name == "" {
		name = strconv.FormatUint(uint64(id.UID), 10)
	}
	switch {
	case !id.Switch:
		return fmt.Sprintf("%s (%s not applied: the host is not root and runs workers as itself)", name, id.Type)
	case id.Type == IdentityLocalSystem:
		return fmt.Sprintf("%s (%s: unsafe)", name, id.Type)
	case id.Type == IdentityAppPool:
		return fmt.Sprintf("%s uid %d (%s)", name, id.UID, id.Type)
	}
	return fmt.Sprintf("%s (%s)", name, id.Type)
}

// Resolve returns the identity of a worker of the pool with settings s.
// Errors wrap ErrIdentity.
func (ids *Identities) Resolve(s *Settings) (*Identity, error) {
	pm := s.Resolved.ProcessModel
	if pm == nil {
		pm = &store.ProcessModel{}
	}
	typ := IdentityAppPool
	if pm.IdentityType != nil && *pm.IdentityType != "" {
		typ = *pm.IdentityType
	}
	id := &Identity{Type: typ, Profile: pm.SetProfileEnvironment == nil || *pm.SetProfileEnvironment}
	if !ids.CanSwitch() {
		return ids.hostSelf(id), nil
	}
	id.Switch = true
	switch typ {
	case IdentityAppPool:
		uid, err := ids.PoolUID(s.Name)
		if err != nil {
			return nil, err
		}
		id.Name, id.UID, id.GID = "apppool-"+s.Name, uid, uid
		id.Home, id.Shell = "/", "/usr/sbin/nologin"
		if ids.opts.HomeDir != "" {
			dir := homeName(s.Name)
			if !plainName(dir) {
				return nil, fmt.Errorf("%w: the pool name %q cannot name a home directory in %s", ErrIdentity, s.Name, ids.opts.HomeDir)
			}
			id.Home, id.ownHome = filepath.Join(ids.opts.HomeDir, dir), true
		}
	case IdentityNetworkService, IdentityLocalService:
		name := ids.opts.ServiceUser
		if name == "" {
			name = "nobody"
		}
		if err := ids.fromUser(id, name); err != nil {
			return nil, fmt.Errorf("%w: the %s account %q (--service-user): %w", ErrIdentity, typ, name, err)
		}
	case IdentityLocalSystem:
		if err := ids.fromUser(id, "root"); err != nil {
			id.Name, id.Home, id.Shell = "root", "/root", "/bin/sh"
		}
		id.UID, id.GID = 0, 0
	case IdentitySpecificUser:
		name := ""
		if pm.UserName != nil {
			name = *pm.UserName
		}
		if name == "" {
			return nil, fmt.Errorf("%w: identityType is SpecificUser but processModel.userName is empty", ErrIdentity)
		}
		if err := ids.fromUser(id, name); err != nil {
			return nil, fmt.Errorf("%w: processModel.userName %q: %w", ErrIdentity, name, err)
		}
	default:
		return nil, fmt.Errorf("%w: unknown identityType %q", ErrIdentity, typ)
	}
	if g := ids.opts.WorkerGroup; g != "" && (pm.ManualGroupMembership == nil || !*pm.ManualGroupMembership) {
		gid, err := ids.groupID(g)
		if err != nil {
			return nil, fmt.Errorf("%w: worker group %q (--worker-group): %w", ErrIdentity, g, err)
		}
		if gid != id.GID && !containsID(id.Groups, gid) {
			id.Groups = append(id.Groups, gid)
		}
	}
	return id, nil
}

// hostSelf is the identity of a host that cannot switch: its own user.
func (ids *Identities) hostSelf(id *Identity) *Identity {
	id.UID, id.GID = uint32(os.Geteuid()), uint32(os.Getegid())
	id.Name = strconv.Itoa(os.Geteuid())
	id.Profile = false // the host's own environment already describes it
	if u, err := user.LookupId(id.Name); err == nil {
		id.Name = u.Username
	}
	return id
}

// fromUser fills id from a system account: uid, gid, its groups, home and
// shell.
func (ids *Identities) fromUser(id *Identity, name string) error {
	u, err := ids.lookupUser(name)
	if err != nil {
		return fmt.Errorf("no such user on this system: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return fmt.Errorf("uid %q: %w", u.Uid, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return fmt.Errorf("gid %q: %w", u.Gid, err)
	}
	id.Name, id.UID, id.GID, id.Home = u.Username, uint32(uid), uint32(gid), u.HomeDir
	if id.Home == "" {
		id.Home = "/"
	}
	id.Shell = loginShell(u.Username)
	if gids, err := u.GroupIds(); err == nil {
		for _, g := range gids {
			n, err := strconv.ParseUint(g, 10, 32)
			if err == nil && uint32(n) != id.GID && !containsID(id.Groups, uint32(n)) {
				id.Groups = append(id.Groups, uint32(n))
			}
		}
	}
	return nil
}

// groupID finds a group by name, or by number.
func (ids *Identities) groupID(name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	g, err := ids.lookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("no such group: %w", err)
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("gid %q: %w", g.Gid, err)
	}
	return uint32(n), nil
}

func containsID(ids []uint32, id uint32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// loginShell is the user's shell from /etc/passwd (os/user does not report
// it), /bin/sh when it is not there.
func loginShell(name string) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/bin/sh"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) == 7 && fields[0] == name && fields[6] != "" {
			return fields[6]
		}
	}
	return "/bin/sh"
}

// identity resolves the identity of a worker about to be launched and
// prepares what it owns: its home directory (ApplicationPoolIdentity) and
// the pool's worker log, which it may write and other pools may not read.
// An invalid identity is recorded (5021, then 5059) and disables the pool,
// as IIS does; the error wraps ErrIdentity.
func (p *Pool) identity(s *Settings) (*Identity, error) {
	id, err := p.launcher.Identities.Resolve(s)
	if err != nil {
		reason := err.Error()
		p.events.Record(events.Event{ID: events.IdentityInvalid, Pool: s.Name, Reason: reason})
		p.events.Record(events.Event{ID: events.LaunchFailure, Pool: s.Name,
			Reason: "worker could not be launched and the pool is disabled: " + reason})
		go func() {
			_ = p.do(context.Background(), func() error {
				_, err := p.stop("disabled: "+reason+" (fix it, then start the pool)", true)
				return err
			})
		}()
		return nil, err
	}
	if !id.Switch {
		return id, nil
	}
	if id.Type == IdentityLocalSystem {
		p.launcher.Identities.warnRoot(p, s.Name)
	}
	if id.ownHome && id.Profile {
		if err := ownDir(filepath.Dir(id.Home), filepath.Base(id.Home), id.UID, id.GID); err != nil {
			return nil, fmt.Errorf("home directory of the pool's identity: %w", err)
		}
	}
	if l, ok := p.log.(interface{ SetOwner(uid, gid int) error }); ok {
		// The current file and every file it rotates to (mode 0640).
		if err := l.SetOwner(int(id.UID), int(id.GID)); err != nil {
			return nil, fmt.Errorf("give the worker log to the pool's identity: %w", err)
		}
	}
	return id, nil
}

// warnRoot logs once per pool that its workers run as root.
func (ids *Identities) warnRoot(p *Pool, pool string) {
	ids.mu.Lock()
	first := !ids.warned[strings.ToLower(pool)]
	ids.warned[strings.ToLower(pool)] = true
	ids.mu.Unlock()
	if first {
		p.logger.Warn("the pool's workers run as root (identityType LocalSystem): unsafe", "pool", pool)
	}
}

// ownDir creates parent/name (mode 0700; parent 0711 if missing) and gives
// it to uid:gid without ever following a symbolic link: parent and name are
// opened with O_NOFOLLOW, the directory is created with mkdirat and owned
// and moded through its descriptor. A name that is not one plain path
// element ("", ".", "..", anything with a slash or NUL) and a name or parent
// that is a symbolic link or not a directory are refused, and nothing
// changes.
func ownDir(parent, name string, uid, gid uint32) error {
	dir := filepath.Join(parent, name)
	if !plainName(name) {
		return fmt.Errorf("home directory %q in %s: not a plain directory name; refused", name, parent)
	}
	if err := os.MkdirAll(parent, 0o711); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	pfd, err := unix.Open(parent, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w%s", parent, err, linkHint(err))
	}
	defer unix.Close(pfd)
	if err := unix.Mkdirat(pfd, name, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fd, err := unix.Openat(pfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w%s", dir, err, linkHint(err))
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, int(uid), int(gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	if err := unix.Fchmod(fd, 0o700); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}

// homeName is the name of a pool's home directory: the pool's name, or for
// the synthetic pool of a Legacy High application (whose name holds the
// application's path) the file-name-safe name its log has.
func homeName(pool string) string {
	if strings.HasPrefix(pool, legacyHighPrefix) {
		return legacyLogName(pool)
	}
	return pool
}

// plainName reports whether name is one path element that stays in its
// parent.
func plainName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// linkHint explains the errors O_NOFOLLOW|O_DIRECTORY gives for a symbolic
// link or a file.
func linkHint(err error) string {
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		return " (a symbolic link or not a directory: refused; remove it and the host recreates the directory)"
	}
	return ""
}
