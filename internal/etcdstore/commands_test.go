package etcdstore_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/poolctl/poolctl/commands"
	"github.com/poolctl/poolctl/internal/etcdstore"
)

// run runs poolctl with --config cfg and returns its exit code and output.
func run(t *testing.T, cfg string, args ...string) (int, string, string) {
	t.Helper()
	return runTimeout(t, "20s", cfg, args...)
}

// runTimeout is run with --timeout d.
func runTimeout(t *testing.T, d, cfg string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	argv := append([]string{"poolctl", "--config", cfg, "--socket", filepath.Join(t.TempDir(), "none.sock"), "--timeout", d}, args...)
	code := commands.Main(context.Background(), argv, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestEtcdVerbsMatchFileStore runs every verb against a file store and a
// store in etcd holding the same bytes: exit codes, output and the store's
// bytes after each command are the same.
func TestEtcdVerbsMatchFileStore(t *testing.T) {
	te := etcdstore.StartEtcd(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "etc", "applicationHost.toml")
	etcd := te.URL("verbs")
	if code, _, stderr := run(t, file, "list", "apppool"); code != 0 {
		t.Fatal(stderr)
	}
	if code, _, stderr := run(t, etcd, "restore", "backup", "/from:"+file); code != 0 {
		t.Fatal(stderr)
	}
	steps := [][]string{
		{"list", "apppool"},
		{"add", "apppool", "/name:Shop", "/queueLength:100", "/processModel.maxProcesses:2"},
		{"add", "apppool", "/name:shop"},
		{"add", "apppool", "/name:Bad", "/queueLength:lots"},
		{"add", "apppool", "/name:Other", "/autoStart:false"},
		{"set", "apppool", "Shop", "/processModel.idleTimeout:00:05:00"},
		{"set", "apppool", "Shop", "/+environmentVariables.[name='A',value='1']"},
		{"set", "apppool", "Missing", "/queueLength:10"},
		{"set", "apppool", "Shop", "/name:Store"},
		{"set", "config", "/applicationPoolDefaults.queueLength:500"},
		{"list", "apppool", "/json"},
		{"list", "apppool", "Store", "/text:*"},
		{"add", "site", "/name:Shop", "/id:2", "/bindings:http/*:8081:", "/physicalPath:/srv/shop"},
		{"add", "site", "/name:Clash", "/id:3", "/bindings:http/*:8081:", "/physicalPath:/srv/clash"},
		{"add", "app", "/site.name:Shop", "/path:/api", "/applicationPool:Store", "/physicalPath:/srv/api"},
		{"list", "site"},
		{"list", "app"},
		{"list", "vdir"},
		{"set", "site", "Shop", "/bindings:http/*:8082:"},
		{"delete", "apppool", "Store"},
		{"delete", "apppool", "Other"},
		{"delete", "app", "Shop/api"},
		{"delete", "site", "Shop"},
		{"delete", "apppool", "Store"},
		{"list", "config"},
		{"stop", "apppool", "DefaultAppPool"},
	}
	for _, args := range steps {
		fc, fout, ferr := run(t, file, args...)
		ec, eout, eerr := run(t, etcd, args...)
		ferr = strings.ReplaceAll(ferr, file, "STORE")
		eerr = strings.ReplaceAll(eerr, etcd, "STORE")
		// With no host running, the file store names the one host and the
		// etcd store the farm's hosts; the rest of the message is the same.
		fout = strings.ReplaceAll(fout, "poolctl host is not running, so it takes effect when the host starts", "NO HOST")
		eout = strings.ReplaceAll(eout, "no host of the farm is running, so it takes effect when they start", "NO HOST")
		if fc != ec || fout != eout || ferr != eerr {
			t.Errorf("%q:\nfile: exit %d\n%s%s\netcd: exit %d\n%s%s", args, fc, fout, ferr, ec, eout, eerr)
		}
		want, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "export.toml")
		if code, _, stderr := run(t, etcd, "add", "backup", "/to:"+out); code != 0 {
			t.Fatal(stderr)
		}
		got, _ := os.ReadFile(out)
		if !bytes.Equal(got, want) {
			t.Fatalf("after %q the stores differ:\nfile:\n%s\netcd:\n%s", args, want, got)
		}
	}
}

// TestEtcdMoveRoundTrip: file store → etcd → file store gives the same
// bytes, for a store poolctl wrote and for one edited by hand.
func TestEtcdMoveRoundTrip(t *testing.T) {
	te := etcdstore.StartEtcd(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "applicationHost.toml")
	for _, args := range [][]string{{"add", "apppool", "/name:A"}, {"set", "apppool", "A", "/processModel.idleTimeout:00:05:00"}} {
		if code, _, stderr := run(t, file, args...); code != 0 {
			t.Fatal(stderr)
		}
	}
	data, _ := os.ReadFile(file)
	edited := filepath.Join(dir, "edited.toml")
	hand := strings.Replace(string(data), "[[applicationPools]]\nname = \"A\"", "# my pool\n[[applicationPools]]\nname = \"A\" # inline", 1)
	if err := os.WriteFile(edited, []byte(hand), 0o600); err != nil {
		t.Fatal(err)
	}
	for i, src := range []string{file, edited} {
		url := te.URL(fmt.Sprintf("rt%d", i))
		if code, out, stderr := run(t, url, "restore", "backup", "/from:"+src); code != 0 || !strings.Contains(out, "Restored") {
			t.Fatal(code, out, stderr)
		}
		back := filepath.Join(dir, fmt.Sprintf("back%d.toml", i))
		if code, _, stderr := run(t, url, "add", "backup", "/to:"+back); code != 0 {
			t.Fatal(stderr)
		}
		want, _ := os.ReadFile(src)
		got, _ := os.ReadFile(back)
		if !bytes.Equal(got, want) {
			t.Fatalf("round trip of %s:\n%s\nwant:\n%s", src, got, want)
		}
	}
}

// TestEtcdUnavailableCommand: with etcd down, reads and writes exit with
// ExitUnavailable and a message naming the endpoint; nothing is written.
func TestEtcdUnavailableCommand(t *testing.T) {
	te := etcdstore.StartEtcd(t)
	url := te.URL("down")
	if code, _, stderr := run(t, url, "add", "apppool", "/name:A"); code != 0 {
		t.Fatal(stderr)
	}
	dir := t.TempDir()
	before := filepath.Join(dir, "before.toml")
	if code, _, stderr := run(t, url, "add", "backup", "/to:"+before); code != 0 {
		t.Fatal(stderr)
	}
	te.Stop()
	for _, args := range [][]string{{"list", "apppool"}, {"add", "apppool", "/name:B"}, {"set", "apppool", "A", "/queueLength:99"}, {"list", "backup"}} {
		code, _, stderr := runTimeout(t, "1s", url, args...)
		if code != commands.ExitUnavailable || !strings.Contains(stderr, te.Endpoint) || !strings.Contains(stderr, "did not answer") {
			t.Errorf("%q with etcd down: exit %d, %q; want %d naming %s", args, code, stderr, commands.ExitUnavailable, te.Endpoint)
		}
	}
	te.Start()
	after := filepath.Join(dir, "after.toml")
	if code, _, stderr := run(t, url, "add", "backup", "/to:"+after); code != 0 {
		t.Fatal(stderr)
	}
	a, _ := os.ReadFile(before)
	b, _ := os.ReadFile(after)
	if !bytes.Equal(a, b) {
		t.Fatal("the store changed while etcd was down")
	}
}

// TestEtcdBackupCommands: add, list, restore and delete backup on etcd.
func TestEtcdBackupCommands(t *testing.T) {
	te := etcdstore.StartEtcd(t)
	url := te.URL("bk")
	steps := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"add", "apppool", "/name:A"}, 0, "added"},
		{[]string{"add", "backup", "one"}, 0, `BACKUP object "one" added`},
		{[]string{"add", "backup", "ONE"}, commands.ExitExists, ""},
		{[]string{"add", "apppool", "/name:B"}, 0, "added"},
		{[]string{"list", "backup", "/type:backup", "/text:name"}, 0, "one\n"},
		{[]string{"restore", "backup", "one"}, 0, "Restored"},
		{[]string{"list", "apppool", "B"}, commands.ExitNotFound, ""},
		{[]string{"restore", "backup", "nope"}, commands.ExitNotFound, ""},
		{[]string{"delete", "backup", "one"}, 0, "deleted"},
		{[]string{"delete", "backup", "one"}, commands.ExitNotFound, ""},
	}
	for _, s := range steps {
		code, out, stderr := run(t, url, s.args...)
		if code != s.code || !strings.Contains(out, s.out) {
			t.Fatalf("%q: exit %d %q %q; want %d %q", s.args, code, out, stderr, s.code, s.out)
		}
	}
	code, out, _ := run(t, url, "list", "backup", "/type:history", "/text:name")
	if code != 0 || strings.Count(out, "CFGHISTORY_") != 2 {
		t.Fatalf("history: %q", out)
	}
}
