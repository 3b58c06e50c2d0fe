package hosttest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestOperatorStartsAndStopsPool: a member of the host's --operator-group
// who may not write the store file (it is root's, 0644, in root's
// directory) starts and stops a pool through the host: exit 0, the host
// persists autoStart, and the pool's runtime state follows. With no host
// running, the same stop is refused (exit 7) with a hint. A second stop
// exits 5. `list event` run by the operator asks the host: it lists the
// pool's stop although the operator's own state directory is empty.
func TestOperatorStartsAndStopsPool(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	nb := newCtlNobody(e)
	group, gid := ctlOperatorGroup(t)
	// With no host running the tool writes the store itself, which the
	// operator may not: exit 7, saying why and what would work.
	out, errs, code := nb.run([]uint32{gid}, "stop", "apppool", "P")
	if code != 7 || !strings.Contains(errs, "poolctl host is not running, so the tool writes the store itself") || !strings.Contains(errs, "run as root") {
		t.Errorf("stop as an operator with no host: exit %d, want 7 with the reason and a hint\n%s%s", code, out, errs)
	}
	ctlStartHost(e, "--operator-group", group)
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	op := []uint32{gid}

	out, errs, code = nb.run(op, "stop", "apppool", "P")
	if code != 0 {
		t.Fatalf("stop as an operator: exit %d, want 0\n%s%s\n%s", code, out, errs, e.log())
	}
	if !strings.Contains(out, `"P" successfully stopped.`) {
		t.Errorf("stop as an operator printed %q", out)
	}
	if got := strings.TrimSpace(e.run("list", "apppool", "P", "/text:autoStart")); got != "false" {
		t.Errorf("autoStart after the operator's stop: %q, want false persisted", got)
	}
	if got := strings.TrimSpace(e.run("list", "apppool", "P", "/text:state")); got != "Stopped" {
		t.Errorf("runtime state after the operator's stop: %q, want Stopped", got)
	}
	if code, _, _ := e.get("/"); code != 503 {
		t.Errorf("GET / on the stopped pool: %d, want 503", code)
	}
	if out, errs, code := nb.run(op, "stop", "apppool", "P"); code != 5 || !strings.Contains(errs, "already stopped") {
		t.Errorf("second stop as an operator: exit %d, want 5 (already stopped)\n%s%s", code, out, errs)
	}

	out, errs, code = nb.run(op, "start", "apppool", "P")
	if code != 0 {
		t.Fatalf("start as an operator: exit %d, want 0\n%s%s\n%s", code, out, errs, e.log())
	}
	if !strings.Contains(out, `"P" successfully started.`) {
		t.Errorf("start as an operator printed %q", out)
	}
	if got := strings.TrimSpace(e.run("list", "apppool", "P", "/text:autoStart")); got != "true" {
		t.Errorf("autoStart after the operator's start: %q, want true", got)
	}
	if got := strings.TrimSpace(e.run("list", "apppool", "P", "/text:state")); got != "Started" {
		t.Errorf("runtime state after the operator's start: %q, want Started", got)
	}
	ctlServedBy(e, 10*time.Second, e.url("/"), "P")
	// The host wrote the store (now private to root): a recycle by the
	// operator does not need to read it.
	if out, errs, code := nb.run(op, "recycle", "apppool", "p"); code != 0 || !strings.Contains(out, `"P" successfully recycled`) {
		t.Errorf("recycle as an operator after the host wrote the store: exit %d\n%s%s", code, out, errs)
	}

	// The operator's own state directory (HOME=/nonexistent) holds
	// nothing: the events come from the host.
	out, errs, code = nb.run(op, "list", "event", "/apppool.name:P", "/text:id")
	if code != 0 {
		t.Fatalf("list event as an operator: exit %d\n%s%s", code, out, errs)
	}
	for _, id := range []string{"9002", "9001"} {
		if !strings.Contains(out, id+"\n") {
			t.Errorf("list event as an operator lacks event %s:\n%s%s", id, out, errs)
		}
	}
	// Outside the operator group (the socket's group here) and without
	// write access to the store: refused, exit 7, nothing changes.
	if out, errs, code := nb.run([]uint32{0}, "stop", "apppool", "P"); code != 7 || !strings.Contains(errs, "permission denied by poolctl host") {
		t.Errorf("stop outside the operator group: exit %d, want 7 from the host\n%s%s", code, out, errs)
	}
	if got := strings.TrimSpace(e.run("list", "apppool", "P", "/text:state")); got != "Started" {
		t.Errorf("state after a refused stop: %q, want Started", got)
	}
}

// TestListEventFromHost: with a host running, `list event` lists what the
// host recorded, with its filters, whatever --state-dir the tool gets.
func TestListEventFromHost(t *testing.T) {
	t.Parallel()
	e := newHostEnv(t)
	e.addTestPool("Q", "/")
	e.startHost()
	ctlServedBy(e, 10*time.Second, e.url("/"), "Q")
	e.run("recycle", "apppool", "Q")
	elsewhere := t.TempDir()
	var out string
	waitFor(t, 10*time.Second, "the recycle event listed", func() error {
		out = e.run("--state-dir", elsewhere, "list", "event", "/apppool.name:q", "/id:5079", "/text:reason")
		if !strings.Contains(out, "an administrator asked for a recycle\n") {
			return fmt.Errorf("list event printed %q", out)
		}
		return nil
	})
	if n := strings.Count(out, "\n"); n != 1 {
		t.Errorf("list event /id:5079 printed %d lines, want 1:\n%s", n, out)
	}
	if out := e.run("--state-dir", elsewhere, "list", "event", "/since:00:00:00", "/text:id"); out != "" {
		t.Errorf("list event /since:0 printed %q, want nothing", out)
	}
}
