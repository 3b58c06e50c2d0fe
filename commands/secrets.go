package commands

import (
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"
	"syscall"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

// secretMask replaces a secret value in output.
const secretMask = "********"

// secretNameWords mark an environment variable as a secret when its name
// contains one of them, in any case. docs/store-and-grammar.md lists them.
var secretNameWords = []string{
	"PASS", "PWD", "SECRET", "TOKEN", "KEY", "CRED", "AUTH", "PRIVATE",
	"COOKIE", "SALT", "SIGNATURE", "DSN", "CONNECTIONSTRING",
}

// urlPassword matches a URL carrying a password: scheme://user:password@.
var urlPassword = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]*:[^/@\s]*@`)

// isSecretEnv reports whether an environment variable holds a secret: by
// its name, or because its value is a URL with a password in it.
func isSecretEnv(name, value string) bool {
	up := strings.ToUpper(name)
	for _, w := range secretNameWords {
		if strings.Contains(up, w) {
			return true
		}
	}
	return urlPassword.MatchString(value)
}

// maskEnv returns the variables with secret values replaced by secretMask;
// vs itself is not changed.
func maskEnv(vs []store.EnvironmentVariable) []store.EnvironmentVariable {
	var out []store.EnvironmentVariable
	for i, v := range vs {
		if v.Value == "" || !isSecretEnv(v.Name, v.Value) {
			continue
		}
		if out == nil {
			out = append([]store.EnvironmentVariable(nil), vs...)
		}
		out[i].Value = secretMask
	}
	if out == nil {
		return vs
	}
	return out
}

// shown is the value of p for r as output shows it: secrets masked unless
// show.
func (r row) shown(p *prop, show bool) any {
	v := p.get(r.obj)
	if show || p.field == nil || p.field.Kind != store.KindEnvVars {
		return v
	}
	if vs, ok := v.([]store.EnvironmentVariable); ok {
		return maskEnv(vs)
	}
	return v
}

// shownText is the text of p for r as output shows it.
func (r row) shownText(p *prop, show bool) string {
	if p.field != nil {
		return p.field.Format(r.shown(p, show))
	}
	return r.text(p)
}

// takeShowSecrets removes /showSecrets from a and checks that the caller
// may see secrets: root, or the owner of the store file (who can read it
// anyway). Others get a permission error (exit 7).
func (e *env) takeShowSecrets(a params.Args) (params.Args, bool, error) {
	rest, taken := a.Take("showSecrets")
	show := false
	for _, p := range taken {
		switch {
		case !p.HasValue || strings.EqualFold(p.Value, "true"):
			show = true
		case strings.EqualFold(p.Value, "false"):
			show = false
		default:
			return a, false, usagef("/showSecrets takes no value, or true or false")
		}
	}
	if show {
		if err := e.maySeeSecrets("/showSecrets"); err != nil {
			return a, false, err
		}
	}
	return rest, show, nil
}

// maySeeSecrets checks that the caller is root or owns the store file.
func (e *env) maySeeSecrets(what string) error {
	euid := os.Geteuid()
	if euid == 0 {
		return nil
	}
	if fi, err := os.Stat(e.store.Path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == euid {
			return nil
		}
	}
	return fmt.Errorf("%s prints secret values (environment variables such as passwords and tokens): only root or the owner of %s may use it; run it with sudo: %w", what, e.store.Path, fs.ErrPermission)
}

// refuseMaskedSecrets refuses pools whose variables hold secretMask: a
// template printed without /showSecrets, which would store the mask in
// place of the secret.
func refuseMaskedSecrets(pools []store.AppPool) error {
	for _, p := range pools {
		if p.EnvironmentVariables == nil {
			continue
		}
		for _, v := range *p.EnvironmentVariables {
			if v.Value == secretMask {
				return &store.ObjectError{Object: "apppool", ID: p.Name, Property: "environmentVariables",
					Msg:  fmt.Sprintf("%s has the value %s, the mask that hides a secret: the template was printed without its secrets", v.Name, secretMask),
					Hint: "print it with 'sudo poolctl list apppool NAME /config /showSecrets' (or /encrypt), or set the value in the template",
					Err:  store.ErrInvalid}
			}
		}
	}
	return nil
}
