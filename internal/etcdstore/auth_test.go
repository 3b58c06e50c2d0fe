package etcdstore

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/poolctl/poolctl/store"
)

// TestEtcdAuth: with auth enabled in etcd, the user from POOLCTL_ETCD_USER
// and the password from POOLCTL_ETCD_PASSWORD_FILE are used; a wrong
// password is a permission error.
func TestEtcdAuth(t *testing.T) {
	te := StartEtcd(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + te.Endpoint}, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, step := range []func() error{
		func() error { _, err := admin.RoleAdd(ctx, "root"); return err },
		func() error { _, err := admin.UserAdd(ctx, "root", "s3cret"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("s3cret\n"), 0o600)
	os.WriteFile(bad, []byte("wrong\n"), 0o600)
	open := func(pwFile string) *store.Store {
		loc, _ := ParseLocation(te.URL("auth"))
		env := map[string]string{EnvUser: "root", EnvPasswordFile: pwFile}
		b := New(loc, 20*time.Second, func(k string) string { return env[k] })
		t.Cleanup(func() { b.Close() })
		return store.OpenBackend(b)
	}
	if _, err := open(good).Load(ctx); err != nil {
		t.Fatalf("with the right password: %v", err)
	}
	_, err = open(bad).Load(ctx)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "user root") {
		t.Fatalf("with a wrong password: %v, want a permission error naming the user", err)
	}
}

// TestReadCredentials: TLS turns on with a CA or client certificate, the
// password comes from a file or the environment (not both), and a
// password needs a user.
func TestReadCredentials(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("p4ss\r\nignored\n"), 0o600)
	notPEM := filepath.Join(dir, "ca.pem")
	os.WriteFile(notPEM, []byte("nope"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		want string // error substring, "" for none
		user string
		pass string
		tls  bool
	}{
		{"none", nil, "", "", "", false},
		{"file", map[string]string{EnvUser: "u", EnvPasswordFile: pw}, "", "u", "p4ss", false},
		{"env", map[string]string{EnvUser: "u", EnvPassword: "x"}, "", "u", "x", false},
		{"both", map[string]string{EnvUser: "u", EnvPassword: "x", EnvPasswordFile: pw}, "not both", "", "", false},
		{"no user", map[string]string{EnvPassword: "x"}, "no " + EnvUser, "", "", false},
		{"tls system", map[string]string{EnvTLS: "1"}, "", "", "", true},
		{"bad ca", map[string]string{EnvCACert: notPEM}, "no PEM certificate", "", "", false},
		{"cert without key", map[string]string{EnvCert: notPEM}, "go together", "", "", false},
		{"missing file", map[string]string{EnvUser: "u", EnvPasswordFile: filepath.Join(dir, "none")}, "no such file", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, err := readCredentials(func(k string) string { return tt.env[k] })
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cr.user != tt.user || cr.password != tt.pass || (cr.tls != nil) != tt.tls {
				t.Fatalf("got user %q password %q tls %v", cr.user, cr.password, cr.tls != nil)
			}
		})
	}
}

// TestParseLocation covers the URL grammar.
func TestParseLocation(t *testing.T) {
	for spec, want := range map[string]string{
		"etcd://h:2379/p":          "etcd://h:2379/p",
		"etcd://h:2379":            "etcd://h:2379/poolctl",
		"etcd://a:1,b:2/farm/one/": "etcd://a:1,b:2/farm/one",
		"ETCD://[::1]:2379/x":      "etcd://[::1]:2379/x",
		"etcd://h/p":               "",
		"etcd://h:0/p":             "",
		"etcd://user@h:1/p":        "",
		"etcd://h:1/a//b":          "",
		"etcd://h:1/../b":          "",
		"etcd://,h:1/p":            "",
		"etcd://h:1/p?x=1":         "",
		"foo://h:1/p":              "",
		"etcd://h:99999/p":         "",
		"etcd://h:1/p\x01":         "",
	} {
		loc, err := ParseLocation(spec)
		if want == "" {
			if err == nil || !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%q: %v, want ErrInvalid", spec, err)
			}
			continue
		}
		if err != nil || loc.String() != want {
			t.Errorf("%q = %q, %v; want %q", spec, loc.String(), err, want)
		}
	}
}

// FuzzParseLocation: parsing never panics, and what parses re-parses to
// itself.
func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"etcd://h:2379/p", "etcd://a:1,b:2/x/y", "etcd://[::1]:1/", "etcd://h", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		loc, err := ParseLocation(spec)
		if err != nil {
			return
		}
		again, err := ParseLocation(loc.String())
		if err != nil || again.String() != loc.String() {
			t.Fatalf("%q → %q → %q, %v", spec, loc.String(), again.String(), err)
		}
	})
}
