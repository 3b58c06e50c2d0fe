package proc

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// nobody is the uid and gid the tests run children as when they are root.
const nobody = 65534

// runAs starts spec as nobody, waits for its exit and returns its state.
func runAs(t *testing.T, spec Spec) (*os.ProcessState, error) {
	t.Helper()
	spec.Credential = &syscall.Credential{Uid: nobody, Gid: nobody}
	p, err := Start(spec)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _, _ = p.Stop(context.Background(), 0) })
	waitDone(t, p, 60*time.Second)
	return p.Exit(), nil
}

// TestSelfFileRunsFromPrivateDirectory: the test binary lives in go test's
// 0700 build directory, which nobody cannot reach by path; through the
// inherited SelfFile it runs all the same.
func TestSelfFileRunsFromPrivateDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := runAs(t, Spec{Path: exe, Args: []string{"-test.run=^$"}}); err == nil {
		t.Skipf("nobody can run %s by its path: the test would prove nothing", exe)
	}
	self, err := SelfFile()
	if err != nil {
		t.Fatal(err)
	}
	st, err := runAs(t, Spec{Path: SelfPath(0), Arg0: "proc.test", ExtraFiles: []*os.File{self}, Args: []string{"-test.run=^$"}})
	if err != nil {
		t.Fatalf("start through the inherited program: %v", err)
	}
	if !st.Success() {
		t.Fatalf("the program run through its fd exited %v", st)
	}
}

// TestMemCopyOfPrivateProgram: a program whose file others may not execute
// (mode 0700 in a 0700 directory) runs as nobody from its memfd copy, and
// not by its path.
func TestMemCopyOfPrivateProgram(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another uid")
	}
	dir := t.TempDir() // 0700
	bin := filepath.Join(dir, "sleeper")
	b, err := os.ReadFile(sleeper(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := runAs(t, Spec{Path: bin, Args: []string{"-exit-after", "1ms"}}); err == nil {
		t.Fatal("nobody ran a 0700 program in a 0700 directory by its path: the test proves nothing")
	}
	f, err := os.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := memCopy(f)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Write([]byte("x")); err == nil {
		t.Error("the sealed copy could be written")
	}
	st, err := runAs(t, Spec{Path: SelfPath(0), ExtraFiles: []*os.File{m}, Args: []string{"-exit-after", "1ms"}})
	if err != nil {
		t.Fatalf("start the memfd copy: %v", err)
	}
	if !st.Success() {
		t.Fatalf("the memfd copy exited %v", st)
	}
}
