package proc

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// The running program, for children that run it again (the built-in
// worker). A child started under another uid may not be able to reach the
// program by its path (a binary `go run` left in root's 0700 build cache, or
// installed in root's home), and the file at that path may have been
// replaced by an upgrade since the host started. So the host opens
// /proc/self/exe, which is always the very file it runs, once; the child
// inherits that descriptor and executes /proc/self/fd/N (what fexecve does),
// which needs no permission on any directory. If the file itself is not
// executable by others (mode without o+x), a sealed in-memory copy (memfd)
// with mode 0555 is made once instead.

var (
	selfOnce sync.Once
	selfFile *os.File
	selfErr  error
)

// SelfFile returns an open, executable file of the running program, shared
// by every caller: do not close it. Pass it in [Spec.ExtraFiles] and start
// [SelfPath] of its position.
func SelfFile() (*os.File, error) {
	selfOnce.Do(func() { selfFile, selfErr = openSelf() })
	return selfFile, selfErr
}

// SelfPath is the path a child executes to run the file it inherited as
// ExtraFiles[i].
func SelfPath(i int) string { return "/proc/self/fd/" + strconv.Itoa(3+i) }

// openSelf opens /proc/self/exe, or copies it into a memfd when others may
// not execute it.
func openSelf() (*os.File, error) {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return nil, fmt.Errorf("open the running program: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open the running program: %w", err)
	}
	if fi.Mode().Perm()&0o001 != 0 {
		return f, nil
	}
	defer f.Close()
	return memCopy(f)
}

// memCopy copies the program into a sealed memfd of mode 0555.
func memCopy(src *os.File) (*os.File, error) {
	fd, err := unix.MemfdCreate("poolctl", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("copy the running program into memory: %w", err)
	}
	m := os.NewFile(uintptr(fd), "memfd:poolctl")
	fail := func(err error) (*os.File, error) {
		m.Close()
		return nil, fmt.Errorf("copy the running program into memory: %w", err)
	}
	if _, err := io.Copy(m, src); err != nil {
		return fail(err)
	}
	if err := m.Chmod(0o555); err != nil {
		return fail(err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(m.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return fail(err)
	}
	return m, nil
}
