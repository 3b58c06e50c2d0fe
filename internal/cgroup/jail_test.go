package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeGroup writes a cgroup.procs file listing pids into dir.
func fakeGroup(t *testing.T, dir string, pids ...int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, p := range pids {
		b.WriteString(strconv.Itoa(p) + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// sleeper starts a process that sleeps until killed, reaped at cleanup.
func sleeper(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// gone reports whether the child cmd has been killed (it is reaped).
func gone(cmd *exec.Cmd) bool {
	err := cmd.Wait()
	var ee *exec.ExitError
	return errors.As(err, &ee) && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
}

func TestTreeProcs(t *testing.T) {
	dir := t.TempDir()
	fakeGroup(t, dir, 10)
	fakeGroup(t, filepath.Join(dir, "pool-a", "w1"), 11, 12)
	fakeGroup(t, filepath.Join(dir, "pool-a", "w2"))
	if err := os.MkdirAll(filepath.Join(dir, "pool-b"), 0o755); err != nil { // no cgroup.procs: skipped
		t.Fatal(err)
	}
	pids, err := treeProcs(dir)
	slices.Sort(pids)
	if err != nil || !slices.Equal(pids, []int{10, 11, 12}) {
		t.Errorf("treeProcs = %v, %v; want [10 11 12]", pids, err)
	}
	if pids, err := treeProcs(filepath.Join(dir, "missing")); err != nil || len(pids) != 0 {
		t.Errorf("treeProcs of a missing dir = %v, %v; want none", pids, err)
	}
}

// TestSweepFake: sweep kills the processes listed below the h<pid>
// directory of a host that is gone (or of a pid this process reused) and
// leaves a running host's alone. On a
// fake cgroupfs the killed pids stay listed, so the walk ends after its
// rounds; on a real one they leave (TestRealJail).
func TestSweepFake(t *testing.T) {
	old := killRounds
	killRounds = 3
	t.Cleanup(func() { killRounds = old })
	base := t.TempDir()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	leftover, reused, kept := sleeper(t), sleeper(t), sleeper(t)
	fakeGroup(t, filepath.Join(base, "h"+strconv.Itoa(dead.Process.Pid), "pool-P", "w1"), leftover.Process.Pid)
	// A dead host's directory with this process's pid: the pid was reused.
	fakeGroup(t, filepath.Join(base, "h"+strconv.Itoa(os.Getpid()), "pool-P", "w1"), reused.Process.Pid)
	fakeGroup(t, filepath.Join(base, "h"+strconv.Itoa(os.Getppid()), "pool-P", "w1"), kept.Process.Pid)
	fakeGroup(t, filepath.Join(base, "other"), kept.Process.Pid)
	if n := sweep(V1, base); n != 2 {
		t.Errorf("sweep killed %d processes, want 2", n)
	}
	if !gone(leftover) {
		t.Errorf("the leftover of the dead host %d was not killed", dead.Process.Pid)
	}
	if !gone(reused) {
		t.Errorf("the leftover in the directory named after this process was not killed")
	}
	if err := kept.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("a process of a running host was killed: %v", err)
	}
}

// TestRealJail: on this machine's hierarchy, a worker cgroup holds a
// process and a child that left its process group (setsid); Kill kills
// both, Remove removes the cgroup.
func TestRealJail(t *testing.T) {
	cpu, _ := Detect()
	root, err := DetectJails(cpu)
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("no writable cgroup hierarchy here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	testJail(t, root)
}

// TestRealJailV1: the same on a cgroup v1 hierarchy (pids or freezer), where
// Kill walks cgroup.procs.
func TestRealJailV1(t *testing.T) {
	mi, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	pc, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Skip(err)
	}
	_, own := parseProcCgroup(string(pc))
	for _, m := range parseMountinfo(string(mi)) {
		for _, c := range []string{"pids", "freezer"} {
			if m.fstype != "cgroup" || !has(m.options, c) {
				continue
			}
			root, err := prepareHostDir(V1, within(m, own[c]))
			if err != nil {
				t.Logf("%s: %v", m.point, err)
				continue
			}
			t.Cleanup(func() { _ = os.Remove(root.Dir) })
			testJail(t, root)
			return
		}
	}
	t.Skip("no writable cgroup v1 pids or freezer hierarchy here")
}

func testJail(t *testing.T, root *Root) {
	t.Helper()
	t.Logf("worker cgroups: %s at %s", root.Version, root.Dir)
	g, err := root.Jail("jail-test "+strconv.Itoa(os.Getpid()), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = g.Remove()
		_ = root.PoolGroup("jail-test " + strconv.Itoa(os.Getpid())).Remove()
	})
	pidFile := filepath.Join(t.TempDir(), "child")
	// The shell forks only once told to (v1 places it after its start).
	cmd := exec.Command("sh", "-c", `read go; setsid sh -c 'echo $$ > "$0"; exec sleep 1000' "$1" </dev/null >/dev/null 2>&1 & exec sleep 1000`, "sh", pidFile)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var f *os.File
	if root.Version == V2 {
		if f, err = g.Open(); err != nil {
			t.Fatal(err)
		}
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, int(f.Fd())
	}
	err = cmd.Start()
	if f != nil {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if root.Version == V1 {
		if err := g.Add(cmd.Process.Pid); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
	var child int
	deadline := time.Now().Add(30 * time.Second)
	for child == 0 {
		b, _ := os.ReadFile(pidFile)
		child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		if child == 0 && time.Now().After(deadline) {
			t.Fatal("the child did not write its pid")
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Cleanup(func() { _ = syscall.Kill(child, syscall.SIGKILL) })
	pids, err := treeProcs(g.Dir)
	if err != nil || !slices.Contains(pids, child) || !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("cgroup holds %v (%v); want the process %d and its child %d", pids, err, cmd.Process.Pid, child)
	}
	n, err := g.Kill()
	if err != nil {
		t.Fatalf("Kill: %v", err)
	}
	t.Logf("Kill signalled %d processes", n)
	if !gone(cmd) {
		t.Errorf("the process was not killed")
	}
	if b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(child), "stat")); err == nil && !strings.Contains(string(b), ") Z ") {
		t.Errorf("the child %d that left the process group survived: %s", child, b)
	}
	if err := g.Remove(); err != nil {
		t.Errorf("Remove: %v", err)
	}
	if _, err := os.Stat(g.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the worker cgroup is still there: %v", err)
	}
}
