package commands

import (
	"errors"
	"fmt"
	"strings"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/store"
)

// section is a server-level configuration section that 'list config' and
// 'set config' edit.
type section struct {
	name    string   // "applicationPools"
	aliases []string // "system.applicationHost/applicationPools"
	prefix  string   // property prefix: "applicationPoolDefaults."
	schema  *store.Schema
	root    func(*store.Config) any
	// elements carries out an edit of one element of the section's
	// collection (/[name='X'].attr:value, /+[...], /-[...]); nil for a
	// section without one.
	elements func(*store.Config, params.Param) error
	// prefixOptional: the section was named by its defaults element
	// (/section:applicationPoolDefaults), so properties may omit prefix.
	prefixOptional bool
}

func sections() []section {
	return []section{
		{name: "applicationPools", aliases: []string{"system.applicationHost/applicationPools"}, prefix: "applicationPoolDefaults.",
			schema: store.PoolSchema, root: func(c *store.Config) any { return &c.ApplicationPoolDefaults }, elements: poolElementEdit},
		{name: "configHistory", aliases: []string{"system.applicationHost/configHistory"},
			schema: store.HistorySchema, root: func(c *store.Config) any { return &c.ConfigHistory }},
		{name: "host", aliases: []string{"system.webServer/host"},
			schema: store.HostSchema, root: func(c *store.Config) any {
				if c.Host == nil {
					c.Host = &store.HostSettings{}
				}
				return c.Host
			}},
	}
}

func configObject() *object {
	return &object{
		name:    "config",
		summary: "Server-level sections: applicationPools (applicationPoolDefaults), configHistory and host (isolationMode, metricsAddress)",
		schema: func() []propHelp {
			var out []propHelp
			for _, s := range sections() {
				out = append(out, schemaHelp(s.schema, s.name+": "+s.prefix)...)
			}
			return out
		},
		actions: map[string]action{
			"list": {listConfig, "poolctl list config /section:applicationPools|configHistory|host [/text:ATTR | /text:* | /json] [/showSecrets]; /section:? names the sections",
				"Show a section's effective values and where each comes from"},
			"set": {setConfig, "poolctl set config /section:applicationPools /applicationPoolDefaults.PROPERTY:VALUE ... | /section:configHistory /maxHistories:N | /section:host /isolationMode:Legacy; " +
				`appcmd's element edits: "/[name='POOL'].PROPERTY:VALUE" "/+[name='POOL',PROPERTY='VALUE']" "/-[name='POOL']"`,
				"Change defaults every pool inherits, one pool's settings (as appcmd does), history settings, or host settings"},
		},
	}
}

func takeSection(a params.Args) (params.Args, section, error) {
	rest, taken := a.Take("section")
	var names []string
	for _, s := range sections() {
		names = append(names, s.name)
	}
	if a.HasID {
		return a, section{}, usagef("config path %q: poolctl has no per-site or per-application configuration (no web.config); config edits server-level sections: drop the path and give /section:%s", a.ID, strings.Join(names, " or /section:"))
	}
	if len(taken) == 0 {
		return a, section{}, usagef("give the section: /section:%s", strings.Join(names, " or /section:"))
	}
	want := taken[len(taken)-1].Value
	for _, s := range sections() {
		if strings.EqualFold(want, s.name) || containsFold(s.aliases, want) {
			return rest, s, nil
		}
		if s.prefix != "" && strings.EqualFold(want, strings.TrimSuffix(s.prefix, ".")) {
			s.prefixOptional = true
			return rest, s, nil
		}
	}
	return a, section{}, noSection(want, names)
}

func listConfig(e *env, a params.Args) error {
	if p, ok := a.Lookup("section"); ok && p.Value == "?" && !a.HasID && len(a.Params) == 1 {
		// appcmd's 'list config /section:?' names the sections.
		for _, s := range sections() {
			if _, err := fmt.Fprintf(e.stdout, "%s (%s)\n", s.name, strings.Join(s.aliases, ", ")); err != nil {
				return err
			}
		}
		return nil
	}
	rest, sec, err := takeSection(a)
	if err != nil {
		return err
	}
	rest, show, err := e.takeShowSecrets(rest)
	if err != nil {
		return err
	}
	rest, mode, err := takeOutput(rest)
	if err != nil {
		return err
	}
	mode.showSecrets = show
	if err := noParams(rest, "list", "config"); err != nil {
		return err
	}
	cfg, err := e.load()
	if err != nil {
		return err
	}
	root := sec.root(cfg)
	var props []prop
	for i := range sec.schema.Fields {
		f := &sec.schema.Fields[i]
		props = append(props, prop{key: sec.prefix + f.Path, field: f, get: func(any) any {
			if v, ok := f.Get(root); ok {
				return v
			}
			return f.DefaultValue()
		}})
	}
	v := newView("CONFIG", props)
	rows := []row{{v: v, id: sec.name}}
	if mode.json || mode.hasText {
		return render(e.stdout, v, rows, mode)
	}
	// The table shows one property a line, with where its value comes from.
	var cells [][]string
	for i := range props {
		_, set := props[i].field.Get(root)
		src := "default"
		if set {
			src = "set"
		}
		cells = append(cells, []string{props[i].key, treeText(rows[0], &props[i], show), src})
	}
	return writeTable(e.stdout, []string{"PROPERTY", "VALUE", "SOURCE"}, cells)
}

func setConfig(e *env, a params.Args) error {
	rest, sec, err := takeSection(a)
	if err != nil {
		return err
	}
	if len(rest.Params) == 0 {
		return usagef("set config /section:%s: nothing to set; give /%sPROPERTY:VALUE", sec.name, sec.prefix)
	}
	var ps, elems []params.Param
	for _, p := range rest.Params {
		if isElementEdit(p) {
			if sec.elements == nil {
				return usagef("%q: section %s has no collection of elements; set its properties with /PROPERTY:VALUE (see 'poolctl set config /?')", p.Raw, sec.name)
			}
			elems = append(elems, p)
			continue
		}
		if sec.prefix != "" {
			name, ok := cutPrefixFold(p.Name, sec.prefix)
			if !ok && !sec.prefixOptional {
				return usagef("%q: properties of section %s start with %s, e.g. /%sprocessModel.idleTimeout:00:10:00; or edit one pool with /[name='POOL'].PROPERTY:VALUE", p.Raw, sec.name, sec.prefix, sec.prefix)
			}
			p.Name = name
		}
		ps = append(ps, p)
	}
	changed, err := e.update(func(c *store.Config) error {
		t := &target{object: "config", id: sec.name, schema: sec.schema, root: sec.root(c),
			inherited: func(f *store.Field) any { return f.DefaultValue() }, removed: store.RemovedPoolProperties}
		if err := t.apply(ps); err != nil {
			return withPrefix(err, sec.prefix)
		}
		for _, p := range elems {
			if err := sec.elements(c, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	reportChange(e, "CONFIG", sec.name, changed)
	return nil
}

// withPrefix names the property of an error as set config takes it
// (applicationPoolDefaults.queueLength), in its suggestions too.
func withPrefix(err error, prefix string) error {
	var oe *store.ObjectError
	if prefix == "" || !errors.As(err, &oe) || oe.Property == "" {
		return err
	}
	oe.Property = prefix + oe.Property
	if strings.HasPrefix(oe.Hint, "did you mean /") {
		oe.Hint = strings.ReplaceAll(oe.Hint, "/", "/"+prefix)
	}
	return err
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}
