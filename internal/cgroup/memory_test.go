package cgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// envAllocator turns the test binary into a child that allocates the
// number of MiB it reads on each line of stdin (touching every page),
// prints "ok" after each, and exits at EOF.
const envAllocator = "POOLCTL_CGROUP_TEST_ALLOCATOR"

func TestMain(m *testing.M) {
	if os.Getenv(envAllocator) == "1" {
		allocator()
		return
	}
	os.Exit(m.Run())
}

var kept [][]byte

func allocator() {
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		mb, _ := strconv.Atoi(sc.Text())
		b := make([]byte, mb<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		kept = append(kept, b)
		fmt.Println("ok")
	}
}

// guardTimeout bounds every wait of these tests (a failure guard only).
const guardTimeout = 60 * time.Second

// waitErr waits for one value of ch, failing the test after guardTimeout.
func waitErr(t *testing.T, ch <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(guardTimeout):
		t.Fatalf("%s: nothing within %s", what, guardTimeout)
		return nil
	}
}

// TestParseHighCount reads the "high" line of memory.events.
func TestParseHighCount(t *testing.T) {
	n, err := parseHighCount("low 0\nhigh 17\nmax 2\noom 0\noom_kill 0\n")
	if err != nil || n != 17 {
		t.Errorf("parseHighCount = %d, %v", n, err)
	}
	for _, bad := range []string{"", "low 1\n", "high x\n"} {
		if _, err := parseHighCount(bad); err == nil {
			t.Errorf("parseHighCount(%q) succeeded", bad)
		}
	}
}

// TestWatchMemoryV2Files: the v2 watch sets memory.high, wakes when the
// "high" count of memory.events grows (not for another change of the
// file), ends its Wait on Close and puts memory.high back to max. It runs
// on plain files (inotify reports their changes as the kernel's cgroup
// files report theirs), so it runs everywhere.
func TestWatchMemoryV2Files(t *testing.T) {
	dir := t.TempDir()
	write := func(name, v string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("memory.high", "max\n")
	write("memory.events", "low 0\nhigh 3\nmax 0\n")
	g := &Group{Version: V2, Dir: dir}
	w, err := g.WatchMemory(100 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "memory.high")); string(b) != strconv.Itoa(100<<20) {
		t.Errorf("memory.high = %q", b)
	}
	woke := make(chan error, 1)
	go func() { woke <- w.Wait() }()
	write("memory.events", "low 1\nhigh 3\nmax 0\n") // another count: no wake-up
	write("memory.events", "low 1\nhigh 4\nmax 0\n")
	if err := waitErr(t, woke, "wake-up on high 4"); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	go func() { woke <- w.Wait() }()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := waitErr(t, woke, "Wait ending at Close"); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Wait after Close = %v, want os.ErrClosed", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "memory.high")); string(b) != "max" {
		t.Errorf("memory.high after Close = %q, want max", b)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestWatchMemoryKernel: on this machine's real memory hierarchy (skipped
// with the reason where the host could not write one), a child moved into
// a worker memory group that allocates past a threshold wakes the watch,
// and the group is removed afterwards.
func TestWatchMemoryKernel(t *testing.T) {
	if os.Getenv("POOLCTL_KERNEL_MEMORY") == "off" {
		t.Skip("kernel memory reports are turned off (POOLCTL_KERNEL_MEMORY=off)")
	}
	jails, _ := DetectJails(nil)
	if jails != nil {
		t.Cleanup(func() { _ = jails.Close() })
	}
	root, err := DetectMemory(jails)
	if err != nil {
		t.Skipf("kernel memory notifications are not available here: %v", err)
	}
	t.Cleanup(func() {
		_ = root.PoolGroup("memtest").Remove()
		_ = root.Close()
	})
	t.Logf("memory hierarchy: %s at %s", root.Version, root.Dir)
	g, err := root.MemoryGroup("memtest", os.Getpid())
	if err != nil {
		t.Skipf("cannot create a memory cgroup: %v", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), envAllocator+"=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if _, err := g.Kill(); err != nil {
			t.Errorf("kill the group: %v", err)
		}
		if err := g.Remove(); err != nil {
			t.Errorf("remove the group: %v", err)
		}
	})
	if err := g.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(out)
	ask := func(mb int) {
		t.Helper()
		if _, err := fmt.Fprintln(in, mb); err != nil {
			t.Fatal(err)
		}
		line, err := br.ReadString('\n')
		if err != nil || line != "ok\n" {
			t.Fatalf("allocator: %q, %v", line, err)
		}
	}
	ask(1)
	base, err := g.MemoryUsage()
	if err != nil {
		t.Fatal(err)
	}
	threshold := base + 24<<20
	w, err := g.WatchMemory(threshold)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	woke := make(chan error, 1)
	go func() { woke <- w.Wait() }()
	ask(8) // below: no event expected, nothing waited for
	select {
	case err := <-woke:
		t.Fatalf("woken below the threshold: %v", err)
	default:
	}
	ask(32)
	if err := waitErr(t, woke, "the kernel's report of the crossing"); err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if u, _ := g.MemoryUsage(); u < threshold {
		t.Errorf("woken at %d bytes, below the threshold %d", u, threshold)
	}
}
