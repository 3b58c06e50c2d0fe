package commands

import (
	"testing"

	"github.com/poolctl/poolctl/store"
)

func TestIsSecretEnv(t *testing.T) {
	for _, c := range []struct {
		name, value string
		want        bool
	}{
		{"DB_PASSWORD", "x", true},
		{"db_passwd", "x", true},
		{"MYSQL_PWD", "x", true},
		{"Api_Token", "x", true},
		{"AWS_SECRET_ACCESS_KEY", "x", true},
		{"STRIPE_KEY", "x", true},
		{"GOOGLE_APPLICATION_CREDENTIALS", "x", true},
		{"BASIC_AUTH", "x", true},
		{"SENTRY_DSN", "x", true},
		{"DATABASE_URL", "postgres://app:pw@db/shop", true},
		{"UPSTREAM", "https://user:p%40ss@example.com/", true},
		{"DATABASE_URL", "postgres://db/shop", false},
		{"HOME_URL", "https://example.com/a:b@c", false},
		{"MODE", "live", false},
		{"PATH", "/usr/bin:/bin", false},
	} {
		if got := isSecretEnv(c.name, c.value); got != c.want {
			t.Errorf("isSecretEnv(%q, %q) = %v, want %v", c.name, c.value, got, c.want)
		}
	}
}

// FuzzMaskEnv: a masked list has the same names in the same order, no
// secret value survives, other values do, and the input is not changed.
func FuzzMaskEnv(f *testing.F) {
	f.Add("DB_PASSWORD", "hunter2", "MODE", "live")
	f.Add("URL", "http://a:b@c/", "token", "")
	f.Add("", "", "KEY", "********")
	f.Fuzz(func(t *testing.T, n1, v1, n2, v2 string) {
		in := []store.EnvironmentVariable{{Name: n1, Value: v1}, {Name: n2, Value: v2}}
		orig := append([]store.EnvironmentVariable(nil), in...)
		out := maskEnv(in)
		if len(out) != len(in) {
			t.Fatalf("maskEnv changed the length: %v", out)
		}
		for i := range in {
			if in[i] != orig[i] {
				t.Fatalf("maskEnv changed its input: %v", in)
			}
			if out[i].Name != in[i].Name {
				t.Fatalf("maskEnv changed a name: %v", out)
			}
			secret := in[i].Value != "" && isSecretEnv(in[i].Name, in[i].Value)
			if secret && out[i].Value != secretMask || !secret && out[i].Value != in[i].Value {
				t.Fatalf("maskEnv(%v) = %v", in, out)
			}
		}
	})
}
