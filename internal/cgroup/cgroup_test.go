package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

const hybridMountinfo = `23 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 /docker/abc /sys/fs/cgroup/cpu,cpuacct\040x rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate
`

func TestParseMountinfo(t *testing.T) {
	ms := parseMountinfo(hybridMountinfo)
	if len(ms) != 4 {
		t.Fatalf("got %d cgroup mounts, want 4: %+v", len(ms), ms)
	}
	if ms[0].point != "/sys/fs/cgroup/cpu" || ms[0].fstype != "cgroup" || !has(ms[0].options, "cpu") || has(ms[0].options, "cpuacct") {
		t.Errorf("cpu mount = %+v", ms[0])
	}
	if ms[2].point != "/sys/fs/cgroup/cpu,cpuacct x" || ms[2].root != "/docker/abc" || !has(ms[2].options, "cpuacct") {
		t.Errorf("escaped co-mount = %+v", ms[2])
	}
	if ms[3].fstype != "cgroup2" || ms[3].point != "/sys/fs/cgroup/unified" {
		t.Errorf("unified mount = %+v", ms[3])
	}
}

func TestParseProcCgroup(t *testing.T) {
	v2, v1 := parseProcCgroup("12:cpu,cpuacct:/a/b\n4:memory:/m\n1:name=systemd:/s\n0::/user.slice/poolctl.service\n")
	if v2 != "/user.slice/poolctl.service" {
		t.Errorf("v2 = %q", v2)
	}
	if v1["cpu"] != "/a/b" || v1["cpuacct"] != "/a/b" || v1["memory"] != "/m" {
		t.Errorf("v1 = %v", v1)
	}
}

func TestWithin(t *testing.T) {
	m := mount{point: "/sys/fs/cgroup/cpu", root: "/docker/abc"}
	if got := within(m, "/docker/abc/x"); got != "/sys/fs/cgroup/cpu/x" {
		t.Errorf("within = %q", got)
	}
	m.root = "/"
	if got := within(m, "/"); got != "/sys/fs/cgroup/cpu" {
		t.Errorf("within root = %q", got)
	}
}

func TestName(t *testing.T) {
	for in, want := range map[string]string{
		"DefaultAppPool": "DefaultAppPool",
		"My Pool":        "My_20Pool",
		"a/b":            "a_2fb",
		"..":             "_2e.",
		"x_y":            "x_5fy",
	} {
		if got := Name(in); got != want {
			t.Errorf("Name(%q) = %q, want %q", in, got, want)
		}
	}
	if Name("a b") == Name("a_20b") {
		t.Errorf("distinct names collide")
	}
}

func TestQuotaAndWeight(t *testing.T) {
	for _, c := range []struct{ limit, want int64 }{{0, 0}, {20000, 20000}, {100000, 100000}, {500, 1000}} {
		if got := Quota(c.limit); got != c.want {
			t.Errorf("Quota(%d) = %d, want %d", c.limit, got, c.want)
		}
	}
	for _, c := range []struct {
		v     Version
		limit int64
		want  int64
	}{{V2, 0, 100}, {V2, 50000, 50}, {V2, 100, 1}, {V1, 0, 1024}, {V1, 50000, 512}, {V1, 10, 2}} {
		if got := Weight(c.v, c.limit); got != c.want {
			t.Errorf("Weight(%v, %d) = %d, want %d", c.v, c.limit, got, c.want)
		}
	}
}

func TestParseCPUStat(t *testing.T) {
	n, err := parseCPUStat("usage_usec 123456\nuser_usec 100000\nsystem_usec 23456\n")
	if err != nil || n != 123456 {
		t.Errorf("parseCPUStat = %d, %v", n, err)
	}
	if _, err := parseCPUStat("user_usec 1\n"); err == nil {
		t.Errorf("no usage_usec: no error")
	}
}

// TestRealGroup creates a cgroup on this machine's hierarchy, caps it,
// runs a busy process in it and removes it.
func TestRealGroup(t *testing.T) {
	root, err := Detect()
	if errors.Is(err, ErrUnsupported) {
		t.Skipf("neither cgroup v1 nor v2 with a cpu controller is writable here: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	g, err := root.Create("cgroup-test " + strconv.Itoa(os.Getpid()))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.SetMax(Quota(20000), DefaultPeriod); err != nil {
		t.Fatal(err)
	}
	if err := g.SetWeight(Weight(g.Version, 50000)); err != nil {
		t.Fatal(err)
	}
	if g.Version == V1 {
		b, _ := os.ReadFile(filepath.Join(g.Dir, "cpu.cfs_quota_us"))
		if strings.TrimSpace(string(b)) != "20000" {
			t.Errorf("cpu.cfs_quota_us = %q", b)
		}
		b, _ = os.ReadFile(filepath.Join(g.Dir, "cpu.shares"))
		if strings.TrimSpace(string(b)) != "512" {
			t.Errorf("cpu.shares = %q", b)
		}
	} else {
		b, _ := os.ReadFile(filepath.Join(g.Dir, "cpu.max"))
		if strings.TrimSpace(string(b)) != "20000 100000" {
			t.Errorf("cpu.max = %q", b)
		}
	}
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		_ = g.Remove()
	}()
	if err := g.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	pids, err := g.Procs()
	if err != nil || !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("Procs = %v, %v; want %d in it", pids, err, cmd.Process.Pid)
	}
	if d, ok, err := g.Usage(); err != nil {
		t.Errorf("Usage: %v", err)
	} else {
		t.Logf("usage %v (known: %v), %s at %s", d, ok, g.Version, g.Dir)
	}
	if err := os.Remove(g.Dir); err == nil {
		t.Errorf("a cgroup with a process in it was removed")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	killed = true
	start := time.Now()
	if err := g.Remove(); err != nil {
		t.Fatalf("Remove after the process ended: %v", err)
	}
	if _, err := os.Stat(g.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup still there after %v: %v", time.Since(start), err)
	}
}
