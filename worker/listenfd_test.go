package worker_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/worker"
)

// TestRunInheritedListener: with fd:N the worker serves on the listening
// socket it inherited (here: a duplicate the test made), never binding the
// port itself.
func TestRunInheritedListener(t *testing.T) {
	f := newFixture(t)
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	file, err := ln.File() // a duplicate fd >= 3
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // only the duplicate listens now
	// Run takes the descriptor it is given and closes it: give it one of
	// its own, so that file's own is not closed twice (the second close
	// could hit a descriptor reused meanwhile, e.g. by t.TempDir's
	// cleanup).
	fd, err := syscall.Dup(int(file.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- worker.Run(ctx, "fd:"+strconv.Itoa(fd), f.spec, nil, time.Second) }()
	r := get("http://" + addr + "/page.html")
	if r.err != nil || r.status != 200 {
		t.Fatalf("GET over the inherited socket: %d %v", r.status, r.err)
	}
	cancel()
	if err := <-ran; err != nil {
		t.Errorf("Run = %v", err)
	}
	file.Close()
}

func TestRunInheritedListenerBad(t *testing.T) {
	for _, addr := range []string{"fd:2", "fd:x", "fd:-1"} {
		err := worker.Run(context.Background(), addr, worker.Spec{}, nil, time.Second)
		if err == nil || !strings.Contains(err.Error(), addr) {
			t.Errorf("Run(%q) = %v, want an error naming it", addr, err)
		}
	}
}

func TestFromEnvListenFD(t *testing.T) {
	env := map[string]string{"PORT": "8080", "POOLCTL_LISTEN": "127.0.0.1:8080", "POOLCTL_WORKER_SPEC": "{}", "POOLCTL_LISTEN_FD": "3"}
	addr, _, err := worker.FromEnv(func(k string) string { return env[k] })
	if err != nil || addr != "fd:3" {
		t.Errorf("FromEnv = %q, %v; want fd:3", addr, err)
	}
	for _, bad := range []string{"0", "2", "-1", "three"} {
		env["POOLCTL_LISTEN_FD"] = bad
		if _, _, err := worker.FromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "POOLCTL_LISTEN_FD") {
			t.Errorf("POOLCTL_LISTEN_FD=%s: FromEnv = %v, want an error naming it", bad, err)
		}
	}
}
