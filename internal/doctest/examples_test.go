package doctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/poolctl/poolctl/hostapi"
	"github.com/poolctl/poolctl/internal/nettest"
)

// envWaitHost makes the test binary wait for the host of $POOLCTL_SOCKET
// instead of running tests (see TestMain): the driver script of a page
// runs it after a `<!-- runnable host -->` block.
const envWaitHost = "POOLCTL_DOCTEST_WAIT_HOST"

// TestMain runs the tests, or, as a helper of a page's driver script, waits
// for a host.
func TestMain(m *testing.M) {
	if os.Getenv(envWaitHost) != "" {
		if err := waitHost(os.Getenv("POOLCTL_SOCKET"), 2*time.Minute); err != nil {
			fmt.Fprintln(os.Stderr, "doctest:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// waitHost waits until the host on socket answers and has applied the store
// once (its bindings listen).
func waitHost(socket string, guard time.Duration) error {
	deadline := time.Now().Add(guard)
	var last error
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := hostapi.NewClient(socket).Status(ctx)
		cancel()
		if err == nil && st.Generation > 0 {
			return nil
		}
		if err == nil {
			err = errors.New("the first apply has not ended")
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("host on %s not ready within %s: %w", socket, guard, last)
}

// repoRoot is the repository's top directory, two levels up.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// pages returns README.md and docs/*.md, relative to root.
func pages(t *testing.T, root string) []string {
	t.Helper()
	ps, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{"README.md"}
	for _, p := range ps {
		rel, _ := filepath.Rel(root, p)
		out = append(out, rel)
	}
	return out
}

// buildPoolctl builds the poolctl binary into a directory of its own.
func buildPoolctl(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	// Workers of a root host run under per-pool uids and must reach the
	// binary (the built-in worker runs it through a descriptor anyway).
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Dir(dir), 0o711); err != nil {
		t.Fatal(err)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to build poolctl: %v", err)
	}
	cmd := exec.Command(gobin, "build", "-o", filepath.Join(dir, "poolctl"), ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// The ports the pages use; each run substitutes a free loopback port.
var docPorts = []string{"8080", "8081", "8082"}

// Programs an example may need besides bash and poolctl: a page whose
// examples name one that is not installed is skipped.
var optionalPrograms = []string{"curl", "node", "python3", "jq"}

// TestExamples runs the runnable examples of README.md and docs/*.md.
func TestExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the examples build poolctl and start hosts")
	}
	if raceEnabled {
		// The examples run a poolctl built without -race: the race
		// detector would only slow this test binary down.
		t.Skip("-race: the examples run the same without it (go test ./internal/doctest/)")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	root := repoRoot(t)
	bin := ""
	for _, page := range pages(t, root) {
		src, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := Extract(string(src))
		if err != nil {
			t.Errorf("%s: %v", page, err)
			continue
		}
		if len(blocks) == 0 {
			continue
		}
		if bin == "" {
			bin = buildPoolctl(t, root)
		}
		t.Run(page, func(t *testing.T) { runPage(t, page, blocks, bin) })
	}
}

// TestExamplesCoverage requires the pages the brief names to have runnable
// examples: the README's tour and every command line of coming-from-iis.md.
func TestExamplesCoverage(t *testing.T) {
	root := repoRoot(t)
	for _, page := range []string{"README.md", "docs/coming-from-iis.md"} {
		src, err := os.ReadFile(filepath.Join(root, page))
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := Extract(string(src))
		if err != nil {
			t.Fatalf("%s: %v", page, err)
		}
		if len(blocks) == 0 {
			t.Errorf("%s has no runnable example", page)
		}
		if page != "docs/coming-from-iis.md" {
			continue
		}
		// Every fenced block of the page that holds a poolctl command line
		// must be runnable.
		runnable := map[int]bool{}
		for _, b := range blocks {
			runnable[b.Line] = true
		}
		lines := strings.Split(string(src), "\n")
		for i := 0; i < len(lines); i++ {
			fence, ok := openingFence(lines[i])
			if !ok {
				continue
			}
			end, err := closingFence(lines, i, fence)
			if err != nil {
				t.Fatal(err)
			}
			body := strings.Join(lines[i+1:end], "\n")
			if regexp.MustCompile(`(?m)^\s*poolctl `).MatchString(body) && !runnable[i+1] {
				t.Errorf("%s:%d: a block of poolctl command lines that is not marked %s", page, i+1, markRunnable)
			}
			i = end
		}
	}
}

// runPage runs a page's blocks in one bash in a fresh temporary
// environment and checks each block's exit and output.
func runPage(t *testing.T, page string, blocks []Block, bin string) {
	all := ""
	for _, b := range blocks {
		all += b.Code
	}
	for _, p := range optionalPrograms {
		if regexp.MustCompile(`(^|[\s|;&(])` + p + `\s`).MatchString(all) {
			if _, err := exec.LookPath(p); err != nil {
				t.Skipf("%s: the examples need %s, which is not installed", page, p)
			}
		}
	}
	work := t.TempDir()
	// Workers of a root host run under per-pool uids: they must pass
	// through to the content and state below work.
	for _, d := range []string{filepath.Dir(work), work} {
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	dirs := map[string]string{}
	for _, d := range []string{"etc", "run", "state", "home", "tmp", "cwd", "xdg-config", "xdg-state", "xdg-runtime", "driver"} {
		p := filepath.Join(work, d)
		if err := os.Mkdir(p, 0o711); err != nil {
			t.Fatal(err)
		}
		dirs[d] = p
	}
	if err := os.Chmod(dirs["xdg-runtime"], 0o700); err != nil {
		t.Fatal(err)
	}
	env := pageEnv(bin, dirs)

	// Substitute free loopback ports for the ones the page names.
	subst := map[string]string{}
	for _, p := range docPorts {
		subst[p] = strconv.Itoa(freePort(t))
	}
	re := regexp.MustCompile(`\b(` + strings.Join(docPorts, "|") + `)\b`)
	sub := func(s string) string { return re.ReplaceAllStringFunc(s, func(p string) string { return subst[p] }) }

	// The test's own store: the default site on loopback, at the free
	// port of 8080, so that a page that starts a host without a store of
	// its own never listens on every address.
	pre := exec.Command(filepath.Join(bin, "poolctl"), "set", "site", "Default Web Site", "/bindings:http/127.0.0.1:"+subst["8080"]+":")
	pre.Env = env
	if out, err := pre.CombinedOutput(); err != nil {
		t.Fatalf("preparing the store: %v\n%s", err, out)
	}

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var drv strings.Builder
	fmt.Fprintf(&drv, "set -e\ncd %q\n", dirs["cwd"])
	for i, b := range blocks {
		f := filepath.Join(dirs["driver"], fmt.Sprintf("%d.sh", i))
		if err := os.WriteFile(f, []byte(sub(b.Code)), 0o600); err != nil {
			t.Fatal(err)
		}
		// .done holds the block's start and end (bash's EPOCHREALTIME), for the log.
		fmt.Fprintf(&drv, "exec >%q 2>&1 </dev/null\nstart=$EPOCHREALTIME\n. %q\necho \"$start $EPOCHREALTIME\" >%q\n", f+".out", f, f+".done")
		if b.WaitHost {
			fmt.Fprintf(&drv, "%s=1 %q -test.run='^$'\n", envWaitHost, self)
		}
	}
	driver := filepath.Join(dirs["driver"], "driver.sh")
	if err := os.WriteFile(driver, []byte(drv.String()), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", driver)
	cmd.Env = env
	cmd.Dir = dirs["cwd"]
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := cmd.Process.Pid
	// Whatever the page left running (a host in the background, its
	// workers) is stopped before the temporary directory goes.
	t.Cleanup(func() { stopGroup(t, pgid) })
	runErr := cmd.Wait()

	for i, b := range blocks {
		f := filepath.Join(dirs["driver"], fmt.Sprintf("%d.sh", i))
		out, _ := os.ReadFile(f + ".out")
		done, err := os.ReadFile(f + ".done")
		t.Logf("%s:%d (%s):\n%s---\n%s", page, b.Line, took(string(done)), sub(b.Code), out)
		if err != nil {
			if i > 0 && blocks[i-1].WaitHost {
				// The wait for the host runs between the two blocks,
				// its error in the output of the one before.
				prev, _ := os.ReadFile(filepath.Join(dirs["driver"], fmt.Sprintf("%d.sh.out", i-1)))
				t.Fatalf("%s:%d: the host this block starts did not become ready (%v):\n%s\n%s", page, blocks[i-1].Line, runErr, prev, stderr.String())
			}
			t.Fatalf("%s:%d: the example failed (%v):\n%s\noutput:\n%s\n%s", page, b.Line, runErr, sub(b.Code), out, stderr.String())
		}
		if b.Output == nil {
			continue
		}
		if want := sub(*b.Output); !Match(want, string(out)) {
			t.Errorf("%s:%d: the output differs from the page's.\ncommands:\n%s\nthe page shows:\n%s\ngot:\n%s", page, b.Line, sub(b.Code), want, out)
		}
	}
	if runErr != nil {
		t.Errorf("%s: the examples' shell: %v\n%s", page, runErr, stderr.String())
	}
}

// took is how long a block ran, from the start and end its .done file
// holds ("" when they cannot be read).
func took(done string) string {
	f := strings.Fields(done)
	if len(f) != 2 {
		return "?"
	}
	a, err1 := strconv.ParseFloat(f[0], 64)
	b, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil {
		return "?"
	}
	return time.Duration((b - a) * float64(time.Second)).Round(time.Millisecond).String()
}

// pageEnv is the environment a page's examples run in: poolctl first on
// the PATH, every poolctl default pointed into the temporary directory.
func pageEnv(bin string, dirs map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "POOLCTL_"), strings.HasPrefix(k, "XDG_"), strings.HasPrefix(k, "LISTEN_"),
			strings.HasPrefix(k, "WATCHDOG_"), k == "NOTIFY_SOCKET", k == "PATH", k == "HOME", k == "TMPDIR", k == "TZ":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"HOME="+dirs["home"],
		"TMPDIR="+dirs["tmp"],
		"TZ=UTC",
		"XDG_CONFIG_HOME="+dirs["xdg-config"],
		"XDG_STATE_HOME="+dirs["xdg-state"],
		"XDG_RUNTIME_DIR="+dirs["xdg-runtime"],
		"POOLCTL_CONFIG="+filepath.Join(dirs["etc"], "applicationHost.toml"),
		"POOLCTL_SOCKET="+filepath.Join(dirs["run"], "host.sock"),
		"POOLCTL_STATE_DIR="+dirs["state"],
		"POOLCTL_TIMEOUT=60s",
		"POOLCTL_AGE_WORK_FACTOR=10",
	)
}

// freePort returns a loopback port nothing listens on (see nettest.FreePort).
func freePort(t *testing.T) int { t.Helper(); return nettest.FreePort(t) }

// stopGroup stops every process left in process group pgid: SIGTERM (a
// host drains and stops its workers), then SIGKILL if one is still there
// after a generous guard.
func stopGroup(t *testing.T, pgid int) {
	if len(groupMembers(pgid)) == 0 {
		return
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if len(groupMembers(pgid)) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Errorf("processes %v of the examples did not stop on SIGTERM: killed", groupMembers(pgid))
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// groupMembers lists the live (not zombie) processes of group pgid.
func groupMembers(pgid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		// f[0] is the state, f[2] the process group.
		if len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, err := strconv.Atoi(f[2]); err == nil && g == pgid {
			pids = append(pids, pid)
		}
	}
	return pids
}
