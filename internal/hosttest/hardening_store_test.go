package hosttest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
)

// poolStates returns the host's pools and their states.
func (e *hostEnv) poolStates() (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps, err := hostapi.NewClient(e.socket).Pools(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range ps {
		out[p.Name] = p.State.String()
	}
	return out, nil
}

// TestBadStoreKeepsRunningConfiguration: a store truncated to 0 bytes, or
// without its version line, while the host runs leaves the running
// configuration untouched and is reported in the host log; a good store
// put back is applied again.
func TestBadStoreKeepsRunningConfiguration(t *testing.T) {
	e := newHostEnv(t)
	e.addTestPool("P", "/")
	e.run("add", "apppool", "/name:Q", "/processModel.command:"+e.testworker, "/processModel.maxProcesses:3", "/autoStart:false")
	e.startHost()
	if code, body, _ := e.get("/"); code != 200 || !strings.Contains(body, "pool=P") {
		t.Fatalf("GET / = %d %q before the store broke", code, body)
	}
	// WORKERS counts the running workers, not processModel.maxProcesses:
	// 0 for the stopped pool Q that may run 3.
	if out := e.run("list", "apppool", "Q", "/json"); !strings.Contains(out, `"workers": 0`) || !strings.Contains(out, `"maxProcesses": 3`) {
		t.Errorf("list apppool Q /json: want workers 0, maxProcesses 3:\n%s", out)
	}
	if out := e.run("list", "apppool", "Q"); !regexp.MustCompile(`(?m)^Q\s+Stopped\s+\S+\s+\S+\s+0\s*$`).MatchString(out) {
		t.Errorf("list apppool Q: WORKERS is not 0:\n%s", out)
	}
	if n := len(e.workers("P")); n != 1 || !strings.Contains(e.run("list", "apppool", "P", "/json"), `"workers": 1`) {
		t.Errorf("pool P: %d workers in list wp, want list apppool to count 1", n)
	}
	good, err := os.ReadFile(e.store)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct{ name, data string }{
		{"empty", ""},
		{"no version", "applicationPools = []\n"},
	} {
		before := strings.Count(e.log(), "store did not load")
		// Truncate in place, as '> file' does: the inode stays.
		if err := os.WriteFile(e.store, []byte(bad.data), 0o600); err != nil {
			t.Fatal(err)
		}
		// The change notification and SIGHUP both reconcile; wait until the
		// host has reported the bad store at least twice (one of them for
		// the SIGHUP sent after the file changed).
		if err := e.host.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 10*time.Second, bad.name+": the host reports the bad store", func() error {
			if n := strings.Count(e.log(), "store did not load") - before; n < 2 {
				return fmt.Errorf("%d reports so far\n%s", n, e.log())
			}
			return nil
		})
		if code, body, _ := e.get("/"); code != 200 || !strings.Contains(body, "pool=P") {
			t.Errorf("%s store: GET / = %d %q, want 200 from pool P", bad.name, code, body)
		}
		states, err := e.poolStates()
		if err != nil {
			t.Fatal(err)
		}
		if states["P"] != "Started" || states["DefaultAppPool"] == "" {
			t.Errorf("%s store: pools %v, want P Started and DefaultAppPool kept", bad.name, states)
		}
		if got, _ := os.ReadFile(e.store); string(got) != bad.data {
			t.Errorf("%s store: the host rewrote it: %q", bad.name, got)
		}
	}
	// A removed store is not recreated with the defaults.
	if err := os.Remove(e.store); err != nil {
		t.Fatal(err)
	}
	if err := e.host.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the host reports the missing store", func() error {
		if !strings.Contains(e.log(), "is missing") {
			return fmt.Errorf("not yet\n%s", e.log())
		}
		return nil
	})
	if _, err := os.Stat(e.store); err == nil {
		t.Errorf("the host recreated the removed store")
	}
	if code, body, _ := e.get("/"); code != 200 || !strings.Contains(body, "pool=P") {
		t.Errorf("removed store: GET / = %d %q, want 200 from pool P", code, body)
	}
	// A good store again: a change in it is applied.
	if err := os.WriteFile(e.store, good, 0o600); err != nil {
		t.Fatal(err)
	}
	e.run("add", "apppool", "/name:R", "/processModel.command:"+e.testworker)
	waitFor(t, 10*time.Second, "pool R applied", func() error {
		states, err := e.poolStates()
		if err != nil {
			return err
		}
		if _, ok := states["R"]; !ok {
			return fmt.Errorf("pools %v", states)
		}
		return nil
	})
	if code, body, _ := e.get("/"); code != 200 || !strings.Contains(body, "pool=P") {
		t.Errorf("after the repair: GET / = %d %q", code, body)
	}
}

// asNobody runs poolctl against e's store as uid 65534.
func (e *hostEnv) asNobody(args ...string) (stderr string, code int) {
	e.t.Helper()
	cmd := exec.Command(e.bin, append([]string{"--config", e.store, "--socket", e.socket}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var errb strings.Builder
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		e.t.Fatalf("poolctl %v as uid 65534: %v", args, err)
	}
	return errb.String(), code
}

// TestSecretsClosedToOthers: another user can neither read the store (it
// holds secrets) nor have poolctl print them with /showSecrets or /encrypt.
func TestSecretsClosedToOthers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run poolctl as another user")
	}
	e := newHostEnv(t)
	e.run("set", "apppool", "DefaultAppPool", "/+environmentVariables.[name='DB_PASSWORD',value='hunter2']")
	for _, args := range [][]string{
		{"list", "apppool", "/showSecrets"},
		{"list", "config", "/section:applicationPools", "/showSecrets"},
		{"list", "apppool", "DefaultAppPool", "/config", "/encrypt"},
	} {
		stderr, code := e.asNobody(args...)
		if code != 7 || !strings.Contains(stderr, "only root or the owner of") {
			t.Errorf("%v as uid 65534: exit %d %q, want 7 and the reason", args, code, stderr)
		}
	}
	// The store itself is closed: reading it is a permission error.
	stderr, code := e.asNobody("list", "apppool")
	if code != 7 || strings.Contains(stderr, "hunter2") {
		t.Errorf("list apppool as uid 65534: exit %d %q, want 7", code, stderr)
	}
	cmd := exec.Command("/bin/cat", e.store)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	if out, err := cmd.CombinedOutput(); err == nil || strings.Contains(string(out), "hunter2") {
		t.Errorf("uid 65534 read the store: %v %q", err, out)
	}
}
