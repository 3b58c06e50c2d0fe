package docgen

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/commands"
)

const root = "../.."

// TestDocsUpToDate fails when a generated file in the tree differs from
// what 'go generate ./internal/docgen' writes (cmd/go's TestDocsUpToDate is
// the model).
func TestDocsUpToDate(t *testing.T) {
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Errorf("%s: %v; run 'go generate ./internal/docgen'", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date; run 'go generate ./internal/docgen'", name)
		}
	}
}

// TestReferenceCovers checks that the generated reference names what it
// is made from: every pool property, every exit code, every event id.
func TestReferenceCovers(t *testing.T) {
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	props := string(files["docs/reference/properties.md"])
	for _, p := range []string{"`queueLength`", "`processModel.idleTimeout`", "`recycling.periodicRestart.schedule`", "`metricsAddress`", "`bindings`"} {
		if !strings.Contains(props, p) {
			t.Errorf("properties.md does not list %s", p)
		}
	}
	for _, s := range []string{"| 9 |", "| 5002 |", "`poolctl_requests_total`", "poolctl_build_info", "version, revision, goversion"} {
		all := string(files["docs/reference/exit-codes.md"]) + string(files["docs/reference/events.md"]) + string(files["docs/reference/metrics.md"])
		if !strings.Contains(all, s) {
			t.Errorf("the reference does not contain %q", s)
		}
	}
}

// TestManPagesRender renders the man pages with mandoc -T lint or groff,
// when one of them is installed, and fails on their warnings.
func TestManPagesRender(t *testing.T) {
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"docs/man/poolctl.1", "docs/man/poolctl-host.8"} {
		page := files[name]
		if mandoc, err := exec.LookPath("mandoc"); err == nil {
			cmd := exec.Command(mandoc, "-T", "lint", "-W", "warning")
			cmd.Stdin = bytes.NewReader(page)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("mandoc -T lint %s: %v\n%s", name, err, out)
			}
			continue
		}
		groff, err := exec.LookPath("groff")
		if err != nil {
			t.Skip("neither mandoc nor groff is installed")
		}
		cmd := exec.Command(groff, "-man", "-T", "utf8", "-w", "all", "-W", "break", "-z")
		cmd.Stdin = bytes.NewReader(page)
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("groff -man %s: %v\n%s", name, err, out)
		}
	}
}

// TestHelpMatchesReference: every property 'poolctl help OBJECT' lists is
// in the generated properties reference, and every usage line of an object
// is in the commands reference, so help and reference cannot disagree.
func TestHelpMatchesReference(t *testing.T) {
	files, err := Files(root)
	if err != nil {
		t.Fatal(err)
	}
	props := string(files["docs/reference/properties.md"])
	cmds := string(files["docs/reference/commands.md"])
	for _, o := range commands.CommandReference().Objects {
		var out, errOut bytes.Buffer
		if code := commands.Main(context.Background(), []string{"poolctl", "help", o.Name}, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("poolctl help %s: exit %d: %s", o.Name, code, errOut.String())
		}
		help := out.String()
		for _, a := range o.Actions {
			if !strings.Contains(help, a.Usage) || !strings.Contains(cmds, a.Usage) {
				t.Errorf("%s %s: the usage line is not in both help and commands.md: %s", a.Verb, o.Name, a.Usage)
			}
		}
		_, table, ok := strings.Cut(help, "\nProperties:\n")
		if !ok {
			continue
		}
		for _, line := range strings.Split(table, "\n")[1:] {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			name := fields[0]
			if _, rest, ok := strings.Cut(name, ":"); ok && rest == "" { // "applicationPools:" prefix column
				continue
			}
			if i := strings.Index(name, "applicationPoolDefaults."); i >= 0 {
				name = name[i+len("applicationPoolDefaults."):]
			}
			if !strings.Contains(props, "`"+name+"`") {
				t.Errorf("poolctl help %s lists %s, which properties.md does not", o.Name, name)
			}
		}
	}
}

// TestRoffTextNonASCII: troff reads Latin-1, so a character beyond ASCII in
// help text (an ellipsis, a dash) is written as a named Unicode escape.
func TestRoffTextNonASCII(t *testing.T) {
	if got, want := roffText("etcd://… – x"), `etcd://\[u2026] \[u2013] x`; got != want {
		t.Errorf("roffText = %q, want %q", got, want)
	}
}
