package commands

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/commands/secret"
	"github.com/poolctl/poolctl/store"
)

// templateOutput is list's /config[:*] [/encrypt] request.
type templateOutput struct {
	on        bool
	effective bool // /config:* writes every effective value, not only the pool's own
	encrypt   bool
	pass      secret.Source
	// showSecrets writes secret values; else they are masked (secrets.go)
	showSecrets bool
}

// takePassphrase removes /passphraseFile and /passphraseEnv from a. A
// passphrase itself is never taken from the command line, where other users
// could read it in the process list.
func takePassphrase(a params.Args) (params.Args, secret.Source, error) {
	rest, taken := a.Take("passphraseFile", "passphraseEnv", "passphrase")
	var src secret.Source
	for _, p := range taken {
		switch strings.ToLower(p.Name) {
		case "passphrase":
			return a, src, usagef("a passphrase is never given on the command line, where 'ps' shows it: use /passphraseFile:PATH, /passphraseEnv:VARNAME, or type it when asked")
		case "passphrasefile":
			src.File = p.Value
		case "passphraseenv":
			src.Env = p.Value
		}
		if p.Value == "" {
			return a, src, usagef("/%s needs a value", p.Name)
		}
	}
	return rest, src, nil
}

func takeTemplateOutput(a params.Args) (params.Args, templateOutput, error) {
	rest, taken := a.Take("config", "encrypt")
	var t templateOutput
	for _, p := range taken {
		switch strings.ToLower(p.Name) {
		case "config":
			t.on = true
			switch p.Value {
			case "":
			case "*":
				t.effective = true
			default:
				return a, t, usagef("/config takes no value or *: /config prints what the pool sets, /config:* every effective value")
			}
		case "encrypt":
			t.encrypt = true
		}
	}
	rest, src, err := takePassphrase(rest)
	if err != nil {
		return a, t, err
	}
	t.pass = src
	if t.encrypt && !t.on {
		return a, t, usagef("/encrypt goes with /config: poolctl list apppool NAME /config /encrypt")
	}
	if !t.encrypt && (src.File != "" || src.Env != "") {
		return a, t, usagef("/passphraseFile and /passphraseEnv go with /config /encrypt when listing")
	}
	return rest, t, nil
}

// writeTemplate prints the pools of rows as a TOML template, encrypted with
// a passphrase when asked.
func (e *env) writeTemplate(cfg *store.Config, rows []row, t templateOutput) error {
	pools := make([]store.AppPool, len(rows))
	for i, r := range rows {
		p := r.obj.(*poolObj).pool
		pools[i] = store.AppPool{Name: p.Name, PoolSettings: p.PoolSettings}
		if t.effective {
			pools[i].PoolSettings = cfg.Resolved(p)
		}
		if env := pools[i].EnvironmentVariables; env != nil && !t.showSecrets {
			masked := maskEnv(*env)
			pools[i].EnvironmentVariables = &masked
		}
	}
	data, err := store.MarshalPools(pools)
	if err != nil {
		return err
	}
	if t.encrypt {
		pass, err := secret.Passphrase(t.pass, "Passphrase for the template: ", true)
		if err != nil {
			return usagef("%v", err)
		}
		wf, err := secret.WorkFactorFromEnv()
		if err != nil {
			return usagef("%v", err)
		}
		if data, err = secret.Encrypt(data, pass, wf); err != nil {
			return fmt.Errorf("encrypt template: %w", err)
		}
	}
	_, err = e.stdout.Write(data)
	return err
}

// addFromTemplate is 'add apppool /in[:FILE]': create every pool of the
// template, all in one write, or none.
func addFromTemplate(e *env, a params.Args, in params.Param) error {
	rest, rename := a.Take("name")
	rest, src, err := takePassphrase(rest)
	if err != nil {
		return err
	}
	if len(rest.Params) > 0 || a.HasID {
		return usagef("add apppool /in takes only /name, /passphraseFile and /passphraseEnv; change other settings afterwards with 'poolctl set apppool'")
	}
	data, err := readInput(e, in.Value)
	if err != nil {
		return err
	}
	if secret.IsEncrypted(data) {
		pass, err := secret.Passphrase(src, "Passphrase of the template: ", false)
		if err != nil {
			return usagef("%v", err)
		}
		if data, err = secret.Decrypt(data, pass); err != nil {
			return usagef("%v", err)
		}
	}
	pools, err := store.UnmarshalPools(data)
	if err != nil {
		return err
	}
	if err := refuseMaskedSecrets(pools); err != nil {
		return err
	}
	if len(rename) > 0 {
		if len(pools) != 1 {
			return usagef("/name renames a template of one pool; this one has %d", len(pools))
		}
		pools[0].Name = rename[0].Value
	}
	_, err = e.update(func(c *store.Config) error {
		for _, p := range pools {
			if err := store.ValidateNewPoolName(p.Name); err != nil {
				return err
			}
			if old := c.Pool(p.Name); old != nil {
				return fmt.Errorf("%w; none of the template's pools was added: rename the pool of a one-pool template with /name:NEWNAME, or delete the existing pool first", store.Exists("apppool", p.Name, old.Name))
			}
			c.ApplicationPools = append(c.ApplicationPools, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range pools {
		fmt.Fprintf(e.stdout, "APPPOOL object %q added\n", p.Name)
	}
	return nil
}

// readInput reads /in's source: the named file, or standard input.
func readInput(e *env, file string) ([]byte, error) {
	var r io.Reader = e.stdin
	if file != "" && file != "-" {
		f, err := os.Open(file)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, usagef("template %s: no such file or directory; give the file that 'poolctl list apppool NAME /config' wrote, or /in alone to read standard input", file)
		}
		if err != nil {
			return nil, fmt.Errorf("read template: %w", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	return data, nil
}
