package apppool

import (
	"errors"
	"fmt"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/store"
)

// fakeIdentities is a resolver that can switch identity, with the given
// accounts taken.
func fakeIdentities(opts IdentityOptions, uidTaken, gidTaken func(uint32) bool) *Identities {
	ids := NewIdentities(opts)
	ids.canSwitch = true
	ids.uidTaken, ids.gidTaken = uidTaken, gidTaken
	ids.lookupUser = func(name string) (*user.User, error) {
		switch name {
		case "alice":
			return &user.User{Uid: "1234", Gid: "1234", Username: "alice", HomeDir: "/home/alice"}, nil
		case "nobody", "root":
			return user.Lookup(name)
		}
		return nil, user.UnknownUserError(name)
	}
	ids.lookupGroup = func(name string) (*user.Group, error) {
		if name == "webcontent" {
			return &user.Group{Gid: "4321", Name: name}, nil
		}
		return nil, user.UnknownGroupError(name)
	}
	return ids
}

func none(uint32) bool { return false }

func poolSettings(name string, pm store.ProcessModel) *Settings {
	return &Settings{Name: name, Resolved: store.PoolSettings{ProcessModel: &pm}}
}

func ptr[T any](v T) *T { return &v }

func TestPoolUIDStableAndInRange(t *testing.T) {
	for _, name := range []string{"DefaultAppPool", "a", "Shop API", "x-y_z.1"} {
		a := fakeIdentities(IdentityOptions{}, none, none)
		b := fakeIdentities(IdentityOptions{}, none, none)
		ua, err := a.PoolUID(name)
		if err != nil {
			t.Fatal(err)
		}
		ub, err := b.PoolUID(strings.ToUpper(name))
		if err != nil {
			t.Fatal(err)
		}
		if ua != ub {
			t.Errorf("%q: uid %d, then %d for the same name in other case", name, ua, ub)
		}
		if ua < PoolIdentityFirst || ua > PoolIdentityLast {
			t.Errorf("%q: uid %d outside %d-%d", name, ua, PoolIdentityFirst, PoolIdentityLast)
		}
		if want := PoolIdentityFirst + identitySlot(name); ua != want {
			t.Errorf("%q: uid %d, want its slot %d with nothing taken", name, ua, want)
		}
	}
}

func TestPoolUIDAvoidsExistingAccounts(t *testing.T) {
	name := "DefaultAppPool"
	natural := PoolIdentityFirst + identitySlot(name)
	ids := fakeIdentities(IdentityOptions{}, func(id uint32) bool { return id == natural }, none)
	uid, err := ids.PoolUID(name)
	if err != nil {
		t.Fatal(err)
	}
	if uid == natural {
		t.Fatalf("uid %d is an existing account", uid)
	}
	if uid != next(natural) {
		t.Errorf("uid %d, want the next slot %d", uid, next(natural))
	}
	// A group with the number counts too (the gid is the same number).
	ids = fakeIdentities(IdentityOptions{}, none, func(id uint32) bool { return id == natural })
	if uid, _ := ids.PoolUID(name); uid != next(natural) {
		t.Errorf("with gid %d taken: uid %d, want %d", natural, uid, next(natural))
	}
	// An account created after the uid was handed out moves the pool on.
	taken := map[uint32]bool{}
	ids = fakeIdentities(IdentityOptions{}, func(id uint32) bool { return taken[id] }, none)
	first, _ := ids.PoolUID(name)
	taken[first] = true
	if again, _ := ids.PoolUID(name); again == first {
		t.Errorf("uid %d kept after an account took it", again)
	}
}

func next(uid uint32) uint32 {
	return PoolIdentityFirst + (uid-PoolIdentityFirst+1)%PoolIdentitySlots
}

func TestPoolUIDWrapsAndRunsOut(t *testing.T) {
	name := "DefaultAppPool"
	start := PoolIdentityFirst + identitySlot(name)
	ids := fakeIdentities(IdentityOptions{}, func(id uint32) bool { return id >= start }, none)
	uid, err := ids.PoolUID(name)
	if err != nil {
		t.Fatal(err)
	}
	if uid != PoolIdentityFirst {
		t.Errorf("uid %d, want the search to wrap to %d", uid, PoolIdentityFirst)
	}
	ids = fakeIdentities(IdentityOptions{}, func(uint32) bool { return true }, none)
	if _, err := ids.PoolUID(name); !errors.Is(err, ErrIdentity) {
		t.Errorf("full range: err %v, want ErrIdentity", err)
	}
}

// collidingNames finds two pool names with the same slot.
func collidingNames(t *testing.T) (string, string) {
	seen := map[uint32]string{}
	for i := 0; i < 1_000_000; i++ {
		n := "pool" + strconv.Itoa(i)
		s := identitySlot(n)
		if other, ok := seen[s]; ok {
			return other, n
		}
		seen[s] = n
	}
	t.Fatal("no colliding names found")
	return "", ""
}

func TestPoolUIDDistinctForCollidingPools(t *testing.T) {
	a, b := collidingNames(t)
	if identitySlot(a) != identitySlot(b) {
		t.Fatalf("%q and %q do not collide", a, b)
	}
	// Whichever pool asks first, the answer is the same: pools are placed
	// in name order.
	get := func(order ...string) map[string]uint32 {
		ids := fakeIdentities(IdentityOptions{}, none, none)
		ids.SetPools([]string{b, "other", a})
		out := map[string]uint32{}
		for _, n := range order {
			uid, err := ids.PoolUID(n)
			if err != nil {
				t.Fatal(err)
			}
			out[n] = uid
		}
		return out
	}
	ab, ba := get(a, b), get(b, a)
	if ab[a] == ab[b] {
		t.Fatalf("%q and %q share uid %d", a, b, ab[a])
	}
	if ab[a] != ba[a] || ab[b] != ba[b] {
		t.Errorf("assignment depends on start order: %v vs %v", ab, ba)
	}
	first, second := min(a, b), max(a, b)
	slot := PoolIdentityFirst + identitySlot(a)
	if ab[first] != slot || ab[second] != next(slot) {
		t.Errorf("got %v, want %s=%d (first by name) and %s=%d", ab, first, slot, second, next(slot))
	}
}

func TestPoolUIDRealSystem(t *testing.T) {
	ids := NewIdentities(IdentityOptions{})
	ids.SetPools([]string{"DefaultAppPool", "Shop"})
	for _, n := range []string{"DefaultAppPool", "Shop"} {
		uid, err := ids.PoolUID(n)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := user.LookupId(fmt.Sprint(uid)); err == nil {
			t.Errorf("%s: uid %d is the existing account %s", n, uid, u.Username)
		}
		if g, err := user.LookupGroupId(fmt.Sprint(uid)); err == nil {
			t.Errorf("%s: gid %d is the existing group %s", n, uid, g.Name)
		}
	}
}

func TestResolveSpecificUser(t *testing.T) {
	ids := fakeIdentities(IdentityOptions{WorkerGroup: "webcontent"}, none, none)
	id, err := ids.Resolve(poolSettings("p", store.ProcessModel{IdentityType: ptr(IdentitySpecificUser), UserName: ptr("alice")}))
	if err != nil {
		t.Fatal(err)
	}
	if id.UID != 1234 || id.GID != 1234 || !slices.Contains(id.Groups, 4321) || !id.Switch {
		t.Errorf("identity %+v, want alice 1234:1234 with group 4321", id)
	}
	env := id.Env()
	for _, want := range []string{"HOME=/home/alice", "USER=alice", "LOGNAME=alice"} {
		if !slices.Contains(env, want) {
			t.Errorf("env %v lacks %s", env, want)
		}
	}
	if got := id.String(); got != "alice (SpecificUser)" {
		t.Errorf("label %q", got)
	}

	_, err = ids.Resolve(poolSettings("p", store.ProcessModel{IdentityType: ptr(IdentitySpecificUser), UserName: ptr("no-such-user")}))
	if !errors.Is(err, ErrIdentity) || !strings.Contains(err.Error(), `"no-such-user"`) {
		t.Errorf("unknown user: err %v, want ErrIdentity naming the user", err)
	}
	_, err = ids.Resolve(poolSettings("p", store.ProcessModel{IdentityType: ptr(IdentitySpecificUser)}))
	if !errors.Is(err, ErrIdentity) {
		t.Errorf("no userName: err %v, want ErrIdentity", err)
	}
}

func TestResolveAppPoolIdentity(t *testing.T) {
	ids := fakeIdentities(IdentityOptions{WorkerGroup: "webcontent", HomeDir: "/state/home"}, none, none)
	id, err := ids.Resolve(poolSettings("Shop", store.ProcessModel{}))
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := ids.PoolUID("Shop")
	if id.Type != IdentityAppPool || id.UID != uid || id.GID != uid || !slices.Equal(id.Groups, []uint32{4321}) {
		t.Errorf("identity %+v, want uid=gid=%d, groups [4321]", id, uid)
	}
	c := id.Credential()
	if c == nil || c.Uid != uid || c.Gid != uid || !slices.Equal(c.Groups, []uint32{4321}) {
		t.Errorf("credential %+v", c)
	}
	if env := id.Env(); !slices.Contains(env, "HOME=/state/home/Shop") || !slices.Contains(env, "USER=apppool-Shop") {
		t.Errorf("env %v", env)
	}
	// manualGroupMembership drops the worker group; setProfileEnvironment
	// false sets no profile variables.
	id, err = ids.Resolve(poolSettings("Shop", store.ProcessModel{ManualGroupMembership: ptr(true), SetProfileEnvironment: ptr(false)}))
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Groups) != 0 || id.Env() != nil {
		t.Errorf("groups %v env %v, want none", id.Groups, id.Env())
	}
	// An unknown worker group disables the pool like any bad identity.
	bad := fakeIdentities(IdentityOptions{WorkerGroup: "nosuchgroup"}, none, none)
	if _, err := bad.Resolve(poolSettings("Shop", store.ProcessModel{})); !errors.Is(err, ErrIdentity) {
		t.Errorf("unknown worker group: err %v", err)
	}
}

func TestResolveServiceAndSystem(t *testing.T) {
	if _, err := user.Lookup("nobody"); err != nil {
		t.Skip("no nobody account on this system")
	}
	ids := fakeIdentities(IdentityOptions{}, none, none)
	for _, typ := range []string{IdentityNetworkService, IdentityLocalService} {
		id, err := ids.Resolve(poolSettings("p", store.ProcessModel{IdentityType: ptr(typ)}))
		if err != nil {
			t.Fatal(err)
		}
		if id.Name != "nobody" || id.String() != "nobody ("+typ+")" {
			t.Errorf("%s: %+v %q", typ, id, id.String())
		}
	}
	id, err := ids.Resolve(poolSettings("p", store.ProcessModel{IdentityType: ptr(IdentityLocalSystem)}))
	if err != nil {
		t.Fatal(err)
	}
	if id.UID != 0 || id.String() != "root (LocalSystem: unsafe)" {
		t.Errorf("LocalSystem: %+v %q", id, id.String())
	}
	ids = fakeIdentities(IdentityOptions{ServiceUser: "ghost"}, none, none)
	if _, err := ids.Resolve(poolSettings("p", store.ProcessModel{IdentityType: ptr(IdentityNetworkService)})); !errors.Is(err, ErrIdentity) {
		t.Errorf("unknown service user: err %v", err)
	}
}

func TestResolveNotRoot(t *testing.T) {
	ids := fakeIdentities(IdentityOptions{}, none, none)
	ids.canSwitch = false
	id, err := ids.Resolve(poolSettings("p", store.ProcessModel{IdentityType: ptr(IdentitySpecificUser), UserName: ptr("no-such-user")}))
	if err != nil {
		t.Fatalf("a host that cannot switch runs workers as itself: %v", err)
	}
	if id.Credential() != nil || id.Env() != nil || !strings.Contains(id.String(), "not applied") {
		t.Errorf("identity %+v %q, want the host's own user, said so", id, id.String())
	}
}
