package commands

import (
	"errors"
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
}

func sections() []section {
	return []section{
		{name: "applicationPools", aliases: []string{"system.applicationHost/applicationPools"}, prefix: "applicationPoolDefaults.",
			schema: store.PoolSchema, root: func(c *store.Config) any { return &c.ApplicationPoolDefaults }},
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
			"list": {listConfig, "poolctl list config /section:applicationPools|configHistory|host [/text:ATTR | /text:* | /json] [/showSecrets]",
				"Show a section's effective values and where each comes from"},
			"set": {setConfig, "poolctl set config /section:applicationPools /applicationPoolDefaults.PROPERTY:VALUE ... | /section:configHistory /maxHistories:N | /section:host /isolationMode:Legacy",
				"Change defaults every pool inherits, history settings, or host settings"},
		},
	}
}

func takeSection(a params.Args) (params.Args, section, error) {
	rest, taken := a.Take("section")
	var names []string
	for _, s := range sections() {
		names = append(names, s.name)
	}
	if len(taken) == 0 || a.HasID {
		return a, section{}, usagef("give the section: /section:%s", strings.Join(names, " or /section:"))
	}
	want := taken[len(taken)-1].Value
	for _, s := range sections() {
		if strings.EqualFold(want, s.name) || containsFold(s.aliases, want) {
			return rest, s, nil
		}
	}
	return a, section{}, &store.ObjectError{Object: "config", ID: want, Msg: "no such section", Hint: "sections: " + strings.Join(names, ", "), Err: store.ErrNotFound}
}

func listConfig(e *env, a params.Args) error {
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
	ps := make([]params.Param, len(rest.Params))
	for i, p := range rest.Params {
		if sec.prefix != "" {
			name, ok := cutPrefixFold(p.Name, sec.prefix)
			if !ok {
				return usagef("%q: properties of section %s start with %s, e.g. /%sprocessModel.idleTimeout:00:10:00", p.Raw, sec.name, sec.prefix, sec.prefix)
			}
			p.Name = name
		}
		ps[i] = p
	}
	changed, err := e.update(func(c *store.Config) error {
		t := &target{object: "config", id: sec.name, schema: sec.schema, root: sec.root(c),
			inherited: func(f *store.Field) any { return f.DefaultValue() }, removed: store.RemovedPoolProperties}
		return t.apply(ps)
	})
	if err != nil {
		return withPrefix(err, sec.prefix)
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
