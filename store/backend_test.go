package store

import (
	"strings"
	"testing"
)

// TestHasScheme: URLs have a scheme; paths, even with colons, do not.
func TestHasScheme(t *testing.T) {
	for spec, want := range map[string]string{
		"etcd://h:1/p":         "etcd",
		"ETCD://h:1/p":         "etcd",
		"foo+bar-1.x://y":      "foo+bar-1.x",
		"/etc/poolctl/a.toml":  "",
		"./a:b/store.toml":     "",
		"a:b/c.toml":           "",
		"://x":                 "",
		"1etcd://x":            "",
		"dir/etcd://x":         "",
		"C:\\store.toml":       "",
		"":                     "",
		"relative/path/x.toml": "",
	} {
		got, ok := HasScheme(spec)
		if got != want || ok != (want != "") {
			t.Errorf("HasScheme(%q) = %q, %v; want %q", spec, got, ok, want)
		}
	}
}

// FuzzHasScheme: a scheme found is the lower-cased text before "://",
// starts with a letter and holds no '/'.
func FuzzHasScheme(f *testing.F) {
	for _, s := range []string{"etcd://h:1/p", "./a:b", "x://", "://", "a/b://c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		scheme, ok := HasScheme(spec)
		if !ok {
			return
		}
		if !strings.HasPrefix(strings.ToLower(spec), scheme+"://") || strings.Contains(scheme, "/") || scheme == "" || !(scheme[0] >= 'a' && scheme[0] <= 'z') {
			t.Fatalf("HasScheme(%q) = %q", spec, scheme)
		}
	})
}
