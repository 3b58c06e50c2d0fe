package apppool

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// ownerOf returns the uid and permission bits of path.
func ownerOf(t *testing.T, path string) (uint32, os.FileMode) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Uid, fi.Mode().Perm()
}

// poolUID is a uid ownDir can give directories to: another one as root.
func poolUID() uint32 {
	if os.Geteuid() == 0 {
		return 65534
	}
	return uint32(os.Geteuid())
}

// TestOwnDirRefusesSymlink: a home/<pool> that is a symbolic link is
// refused and its target keeps its owner and mode (the old code followed
// the link and handed the target to the pool's uid with mode 0700).
func TestOwnDirRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	target := filepath.Join(dir, "elsewhere")
	for _, d := range []string{home, target} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(home, "shop")); err != nil {
		t.Fatal(err)
	}
	wantUID, wantMode := ownerOf(t, target)
	err := ownDir(home, "shop", poolUID(), poolUID())
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("ownDir over a symbolic link = %v, want a refusal naming it", err)
	}
	if uid, mode := ownerOf(t, target); uid != wantUID || mode != wantMode {
		t.Errorf("the link's target became uid %d mode %v, want uid %d mode %v", uid, mode, wantUID, wantMode)
	}

	// A parent that is a symbolic link is refused too.
	linkedHome := filepath.Join(dir, "linked-home")
	if err := os.Symlink(target, linkedHome); err != nil {
		t.Fatal(err)
	}
	if err := ownDir(linkedHome, "shop2", poolUID(), poolUID()); err == nil {
		t.Error("ownDir below a symbolic link parent succeeded")
	}
	if _, err := os.Lstat(filepath.Join(target, "shop2")); err == nil {
		t.Error("ownDir created a directory through a symbolic link parent")
	}
}

// TestOwnDirRefusesEscapingNames: "..", "." and names with a slash never
// reach the parent's parent (the old code gave the host's state directory
// to the pool named "..").
func TestOwnDirRefusesEscapingNames(t *testing.T) {
	state := t.TempDir()
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(state, "home")
	if err := os.Mkdir(home, 0o711); err != nil {
		t.Fatal(err)
	}
	wantUID, wantMode := ownerOf(t, state)
	for _, name := range []string{"..", ".", "", "a/b", "../x", "a\x00b"} {
		if err := ownDir(home, name, poolUID(), poolUID()); err == nil {
			t.Errorf("ownDir(%q) succeeded", name)
		}
	}
	if uid, mode := ownerOf(t, state); uid != wantUID || mode != wantMode {
		t.Errorf("the state directory became uid %d mode %v", uid, mode)
	}
	if _, err := os.Lstat(filepath.Join(state, "x")); err == nil {
		t.Error("ownDir created a directory outside its parent")
	}
}

// TestOwnDirCreatesAndReowns: a new directory is 0700 and the pool's; an
// existing one (a file mode changed by hand) is given back.
func TestOwnDirCreatesAndReowns(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	for range 2 {
		if err := ownDir(home, "shop", poolUID(), poolUID()); err != nil {
			t.Fatal(err)
		}
		if uid, mode := ownerOf(t, filepath.Join(home, "shop")); uid != poolUID() || mode != 0o700 {
			t.Errorf("home/shop is uid %d mode %v, want uid %d mode 0700", uid, mode, poolUID())
		}
		if err := os.Chmod(filepath.Join(home, "shop"), 0o777); err != nil {
			t.Fatal(err)
		}
	}
	if _, mode := ownerOf(t, home); mode != 0o711 {
		t.Errorf("home is mode %v, want 0711", mode)
	}
}

// TestResolveRefusesEscapingPoolName: the identity of a pool named ".."
// would have its home in the state directory: refused.
func TestResolveRefusesEscapingPoolName(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("ApplicationPoolIdentity homes are only made by a root host")
	}
	ids := NewIdentities(IdentityOptions{HomeDir: t.TempDir()})
	for _, name := range []string{"..", "."} {
		_, err := ids.Resolve(&Settings{Name: name})
		if err == nil || !strings.Contains(err.Error(), "cannot name a home directory") {
			t.Errorf("Resolve(%q) = %v, want a refusal of the name", name, err)
		}
	}
}

// TestHomeNameOfLegacyHighPool: the synthetic pool of a Legacy High
// application, whose name holds a '/', gets a flat home directory name.
func TestHomeNameOfLegacyHighPool(t *testing.T) {
	name := homeName(LegacyHighPool("Default Web Site", "/high"))
	if !plainName(name) || !strings.HasPrefix(name, "legacy-high-") {
		t.Errorf("home of a Legacy High pool = %q, want a plain legacy-high-... name", name)
	}
	if got := homeName("Shop"); got != "Shop" {
		t.Errorf("homeName(Shop) = %q", got)
	}
}
