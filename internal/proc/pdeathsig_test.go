package proc

import (
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"
)

var (
	workerRE  = regexp.MustCompile(`(?m)^worker (\d+)$`)
	churnedRE = regexp.MustCompile(`(?m)^churned (\d+) (alive|dead.*)$`)
	diedRE    = regexp.MustCompile(`(?m)^(died .*|survived)$`)
)

// waitWorker reads the worker pid that a fake host prints.
func waitWorker(t *testing.T, out *outputBuffer) identity {
	t.Helper()
	pid, _ := strconv.Atoi(out.waitFor(t, workerRE, 20*time.Second)[1])
	return identify(t, pid)
}

func TestPdeathsigHostKilled(t *testing.T) {
	t.Parallel()
	for _, uid := range []string{"", "65534"} {
		t.Run("uid="+uid, func(t *testing.T) {
			if uid != "" && os.Geteuid() != 0 {
				t.Skip("switching identity needs root")
			}
			t.Parallel()
			host, out := startFakeHost(t, "plain", envFakeUID+"="+uid)
			worker := waitWorker(t, out)
			if s := worker.status(t); dead(s) {
				t.Fatalf("worker %d dead (state %q) before the host was killed", worker.pid, s)
			}
			if err := host.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = host.Wait()
			worker.waitState(t, "dead", dead, 5*time.Second)
		})
	}
}

func TestPdeathsigSurvivesThreadChurn(t *testing.T) {
	t.Parallel()
	host, out := startFakeHost(t, "churn")
	worker := waitWorker(t, out)
	m := out.waitFor(t, churnedRE, 60*time.Second)
	if m[2] != "alive" {
		t.Fatalf("the worker died while the host retired %s threads: %s", m[1], m[2])
	}
	if s := worker.status(t); dead(s) {
		t.Fatalf("worker %d dead (state %q) after the host retired %s threads", worker.pid, s, m[1])
	}
	t.Logf("the host retired %s threads; the worker lives", m[1])
	if err := host.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = host.Wait()
	worker.waitState(t, "dead", dead, 5*time.Second)
}

// TestPdeathsigControl shows that the churn test can fail: a worker forked
// by a thread that then exits is killed although its host lives on.
func TestPdeathsigControl(t *testing.T) {
	t.Parallel()
	_, out := startFakeHost(t, "control")
	// The worker may be gone already: only its death report matters.
	out.waitFor(t, workerRE, 20*time.Second)
	if m := out.waitFor(t, diedRE, 20*time.Second); m[1] != "died signal: killed" {
		t.Fatalf("a worker whose forking thread exited: %s, want killed", m[1])
	}
}
