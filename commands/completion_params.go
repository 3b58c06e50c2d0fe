package commands

import (
	"slices"
	"strings"

	"github.com/poolctl/poolctl/store"
)

// paramSpec is what may follow "VERB OBJECT": the source of positional
// identifiers, and the parameter names the command accepts (without the
// leading '/'; those that take a value end in ':').
type paramSpec struct {
	ids    func(*completer) []string // nil: no identifier to complete
	params []string
	resets []string // properties /-prop resets
	adds   []string // collections /+coll.[ adds to, written "coll.["
}

// idSources are the objects whose identifiers come from the store.
var idSources = map[string]func(*completer) []string{
	"apppool": poolNames,
	"site":    siteNames,
	"app":     appNames,
	"vdir":    vdirNames,
	"backup":  backupNames,
}

// namedIDs are the named forms of the objects' identifiers (/apppool.name:).
var namedIDs = map[string]string{
	"apppool": "apppool.name",
	"site":    "site.name",
	"app":     "app.name",
	"vdir":    "vdir.name",
	"backup":  "backup.name",
	"wp":      "wp.name",
	"request": "request.name",
}

// objectSchemas are the property tables add and set edit.
var objectSchemas = map[string]*store.Schema{
	"apppool": store.PoolSchema,
	"site":    store.SiteSchema,
	"app":     store.AppSchema,
	"vdir":    store.VdirSchema,
}

// extraParams are the parameters a command takes besides its identifier,
// its schema's properties and, for list, its view's filters: as the
// handlers read them.
var extraParams = map[string][]string{
	"list apppool":   {"text:", "json", "config", "config:", "encrypt", "passphraseFile:", "passphraseEnv:", "showSecrets"},
	"list event":     {"since:", "text:", "json"},
	"list config":    {"section:", "text:", "json", "showSecrets"},
	"add apppool":    {"name:", "copyFrom:", "in", "in:", "passphraseFile:", "passphraseEnv:"},
	"add site":       {"name:", "physicalPath:", "applicationPool:"},
	"add app":        {"site.name:"},
	"add vdir":       {"app.name:"},
	"add backup":     {"name:"},
	"set apppool":    {"name:"},
	"set config":     {"section:"},
	"delete apppool": {"reassignTo:"},
}

// specFor returns what may follow "VERB OBJECT"; args are the words typed
// after the object, which narrow set config to the section given.
func specFor(verb string, o *object, args []string) paramSpec {
	var sp paramSpec
	if verb != "add" {
		sp.ids = idSources[o.name]
		if n := namedIDs[o.name]; n != "" {
			sp.params = append(sp.params, n+":")
		}
	}
	key := verb + " " + o.name
	sp.params = append(sp.params, extraParams[key]...)
	switch {
	case verb == "list":
		for _, k := range viewKeys(o) {
			sp.params = append(sp.params, k+":")
		}
		if _, ok := extraParams[key]; !ok {
			sp.params = append(sp.params, "text:", "json")
		}
	case key == "set config":
		for _, s := range sections() {
			if sec := givenSection(args); sec == "" || strings.EqualFold(sec, s.name) {
				sp.addSchema(s.schema, s.prefix)
			}
		}
	case verb == "add" || verb == "set":
		if s := objectSchemas[o.name]; s != nil {
			sp.addSchema(s, "")
		}
	}
	return sp
}

// addSchema adds the schema's properties, with prefix, as parameters.
func (sp *paramSpec) addSchema(s *store.Schema, prefix string) {
	for _, f := range s.Fields {
		sp.params = append(sp.params, prefix+f.Path+":")
		sp.resets = append(sp.resets, prefix+f.Path)
		if f.Kind.IsCollection() {
			sp.adds = append(sp.adds, prefix+f.Path+".[")
		}
	}
}

// givenSection is the value of a /section: among args, or "".
func givenSection(args []string) string {
	for _, a := range slices.Backward(args) {
		if len(a) > 1 && (a[0] == '/' || a[0] == '-') {
			if name, val, ok := strings.Cut(a[1:], ":"); ok && strings.EqualFold(name, "section") {
				return val
			}
		}
	}
	return ""
}

// viewKeys are the property names list filters and prints for the object.
func viewKeys(o *object) []string {
	var v *view
	switch o.name {
	case "apppool":
		v = apppoolView()
	case "site":
		v = siteView(nil)
	case "app":
		v = appView()
	case "vdir":
		v = vdirView()
	case "wp":
		v = wpView()
	case "request":
		v = requestView()
	case "event":
		v = eventView()
	case "backup":
		v = backupView()
	default:
		return nil
	}
	keys := make([]string, len(v.props))
	for i, p := range v.props {
		keys[i] = p.key
	}
	return keys
}

// poolNames are the pools of the store, sorted.
func poolNames(c *completer) []string {
	cfg := c.cfg()
	if cfg == nil {
		return nil
	}
	out := make([]string, len(cfg.ApplicationPools))
	for i, p := range cfg.ApplicationPools {
		out[i] = p.Name
	}
	return sortedFold(out)
}

// siteNames are the sites of the store, sorted.
func siteNames(c *completer) []string {
	cfg := c.cfg()
	if cfg == nil {
		return nil
	}
	out := make([]string, len(cfg.Sites))
	for i, s := range cfg.Sites {
		out[i] = s.Name
	}
	return sortedFold(out)
}

// appNames are the applications' identifiers, "Site/path", sorted.
func appNames(c *completer) []string {
	cfg := c.cfg()
	if cfg == nil {
		return nil
	}
	var out []string
	for _, s := range cfg.Sites {
		for _, a := range s.Applications {
			out = append(out, store.AppName(s.Name, a.Path))
		}
	}
	return sortedFold(out)
}

// vdirNames are the virtual directories' identifiers, each application's
// root ("Site/app/") included, sorted.
func vdirNames(c *completer) []string {
	cfg := c.cfg()
	if cfg == nil {
		return nil
	}
	var out []string
	for si := range cfg.Sites {
		s := &cfg.Sites[si]
		for ai := range s.Applications {
			a := &s.Applications[ai]
			out = append(out, (&vdirObj{site: s, app: a}).name())
			for vi := range a.VirtualDirectories {
				out = append(out, (&vdirObj{site: s, app: a, vdir: &a.VirtualDirectories[vi]}).name())
			}
		}
	}
	return sortedFold(out)
}

// backupNames are the named backups and history snapshots.
func backupNames(c *completer) []string {
	if c.backups == nil {
		return nil
	}
	return c.backups()
}

func sortedFold(s []string) []string {
	slices.SortFunc(s, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return s
}
