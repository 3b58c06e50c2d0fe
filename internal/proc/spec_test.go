package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLookPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	exe := filepath.Join(dir, "prog")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file string
		env  []string
		want string // "" = not found
	}{
		{"prog", []string{"PATH=/nonexistent:" + dir}, exe},
		{"prog", []string{"PATH=/nonexistent", "PATH=" + dir}, exe}, // the last PATH wins
		{"prog", []string{"PATH=" + rel}, ""},                       // relative entries are skipped
		{"data", []string{"PATH=" + dir}, ""},                       // not executable
		{"subdir", []string{"PATH=" + dir}, ""},                     // not a file
		{"./prog", []string{"PATH=" + dir}, "./prog"},               // a slash: used as is
	}
	for _, tt := range tests {
		got, err := lookPath(tt.file, tt.env)
		if tt.want == "" {
			if !errors.Is(err, exec.ErrNotFound) {
				t.Errorf("lookPath(%q, %q) = %q, %v; want exec.ErrNotFound", tt.file, tt.env, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("lookPath(%q, %q) = %q, %v; want %q", tt.file, tt.env, got, err, tt.want)
		}
	}
}

func TestSpecDirEnvOutput(t *testing.T) {
	t.Parallel()
	bin := sleeper(t)
	dir := t.TempDir()
	stdout, stderr := newOutputBuffer(), newOutputBuffer()
	p, err := Start(Spec{
		Path:   filepath.Base(bin), // found through the PATH of Env
		Args:   []string{"-report", "-exit-after", "1ms", "--", "a", "b c"},
		Dir:    dir,
		Env:    []string{"PATH=/nonexistent:" + filepath.Dir(bin), "POOLCTL_TEST_VAR=hello"},
		Stdout: stdout,
		Stderr: stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, p, 10*time.Second)
	// Done comes after the output is drained, so it is complete here.
	for _, want := range []string{"cwd=" + dir + "\n", "var=hello\n", "args=a,b c\n", "envcount=2\n", "ready\n"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if got := stderr.String(); got != "to-stderr\n" {
		t.Errorf("stderr = %q, want %q", got, "to-stderr\n")
	}
}

func TestNilEnvIsEmpty(t *testing.T) {
	t.Setenv("POOLCTL_TEST_VAR", "leaked") // not parallel: changes the environment
	p, out := startSleeper(t, "-report", "-exit-after", "1ms")
	waitDone(t, p, 10*time.Second)
	if s := out.String(); !strings.Contains(s, "envcount=0\n") || !strings.Contains(s, "var=\n") {
		t.Errorf("the host's environment leaked into the worker:\n%s", s)
	}
}

func TestNilOutputIsDiscarded(t *testing.T) {
	t.Parallel()
	p, err := Start(Spec{Path: sleeper(t), Args: []string{"-report", "-exit-after", "1ms"}})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, p, 10*time.Second)
	if st := p.Exit(); st.ExitCode() != 0 {
		t.Errorf("exit state %v", st)
	}
}

func TestCredential(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching identity needs root")
	}
	t.Parallel()
	p, _ := startSpec(t, Spec{
		Path:       sleeper(t),
		Credential: &syscall.Credential{Uid: 65534, Gid: 65534},
	})
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		key, value, _ := strings.Cut(line, ":")
		switch key {
		case "Uid", "Gid":
			if f := strings.Fields(value); len(f) != 4 || strings.Count(value, "65534") != 4 {
				t.Errorf("%s: %q, want 65534 four times", key, value)
			}
		case "Groups":
			if g := strings.TrimSpace(value); g != "" {
				t.Errorf("Groups: %q, want none", g)
			}
		}
	}
	killed, err := p.Stop(context.Background(), 10*time.Second)
	if err != nil || killed {
		t.Errorf("Stop = %v, %v; want false, nil", killed, err)
	}
}
