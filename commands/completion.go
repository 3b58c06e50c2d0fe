package commands

import (
	"slices"
	"strings"

	"github.com/poolctl/poolctl/store"
)

// nonVerbCommands are the commands offered beside the verbs in the first
// position. poolctl worker is left out: the host starts it.
var nonVerbCommands = []string{"help", "host", "version", "completion"}

// completionShells are the shells 'poolctl completion' writes a script for.
var completionShells = []string{"bash", "zsh", "fish"}

// completer computes shell completion candidates. Its sources of names are
// read lazily, so completing a verb or a property never reads the store.
type completer struct {
	cfg     func() *store.Config // nil result: no names from the store
	backups func() []string      // backup and snapshot names; nil: none
	paths   func(prefix string, dirsOnly bool) []string
}

// Complete returns the completion candidates for the last of words, the
// words typed after "poolctl" (the last one is the partial word, possibly
// empty). Each candidate is a whole word, unquoted, that starts with the
// partial word case-insensitively; cfg supplies pool, site, application and
// virtual directory names and may be nil. Complete reads nothing but cfg.
func Complete(words []string, cfg *store.Config) []string {
	c := &completer{cfg: func() *store.Config { return cfg }}
	return c.complete(words)
}

func (c *completer) complete(words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	cur, prev := words[len(words)-1], words[:len(words)-1]
	i := 0
	for i < len(prev) && strings.HasPrefix(prev[i], "-") && prev[i] != "-" {
		name := strings.TrimLeft(prev[i], "-")
		i++
		if strings.Contains(name, "=") || !flagTakesValue(name) {
			continue
		}
		if i == len(prev) {
			return c.flagValue(name, cur)
		}
		i++
	}
	rest := prev[i:]
	if len(rest) == 0 {
		if strings.HasPrefix(cur, "-") {
			if name, val, ok := strings.Cut(strings.TrimLeft(cur, "-"), "="); ok && flagTakesValue(name) {
				return prefixed(cur[:len(cur)-len(val)], c.flagValue(name, val))
			}
			return match(globalFlagNames(), cur)
		}
		return match(append(slices.Clone(verbOrder), nonVerbCommands...), cur)
	}
	verb := strings.ToLower(rest[0])
	switch verb {
	case "help":
		if len(rest) == 1 {
			topics := slices.Clone(verbOrder)
			for _, o := range objects() {
				topics = append(topics, o.name)
			}
			return match(topics, cur)
		}
		return nil
	case "completion":
		if len(rest) == 1 {
			return match(completionShells, cur)
		}
		return nil
	case "version":
		return match([]string{"/json"}, cur)
	case "host":
		if strings.HasPrefix(cur, "-") {
			var names []string
			for _, f := range hostCommand().Flags {
				names = append(names, "--"+f.Names()[0])
			}
			return match(names, cur)
		}
		return nil
	}
	if !slices.Contains(verbOrder, verb) {
		return nil
	}
	if len(rest) == 1 {
		var names []string
		for _, o := range objects() {
			if _, ok := o.actions[verb]; ok {
				names = append(names, o.name)
			}
		}
		return match(names, cur)
	}
	o := findObject(rest[1])
	if o == nil {
		return nil
	}
	if _, ok := o.actions[verb]; !ok {
		return nil
	}
	return c.params(verb, o, rest[2:], cur)
}

// findObject returns the object with the name or alias, case-insensitively.
func findObject(name string) *object {
	for _, o := range objects() {
		if strings.EqualFold(o.name, name) || containsFold(o.aliases, name) {
			return o
		}
	}
	return nil
}

// globalFlagNames are the long names of the global flags.
func globalFlagNames() []string {
	var out []string
	for _, f := range globalFlags() {
		for _, n := range f.Names() {
			if len(n) > 1 {
				out = append(out, "--"+n)
			}
		}
	}
	return out
}

// flagValue completes the value of a global flag: paths for those that
// name files or directories.
func (c *completer) flagValue(name, val string) []string {
	switch name {
	case "config", "c", "socket":
		return c.pathsFor(val, false)
	case "state-dir":
		return c.pathsFor(val, true)
	}
	return nil
}

func (c *completer) pathsFor(prefix string, dirsOnly bool) []string {
	if c.paths == nil {
		return nil
	}
	return c.paths(prefix, dirsOnly)
}

// params completes a word after "VERB OBJECT": an identifier, a
// parameter name, or a parameter's value.
func (c *completer) params(verb string, o *object, args []string, cur string) []string {
	sp := specFor(verb, o, args)
	if cur == "" || (cur[0] != '/' && cur[0] != '-') {
		if sp.ids != nil && !hasPositional(args) {
			return match(sp.ids(c), cur)
		}
		if cur == "" {
			return prefixed("/", sp.params)
		}
		return nil
	}
	lead, body := cur[:1], cur[1:]
	if body != "" && (body[0] == '+' || body[0] == '-') {
		op := body[:1]
		cands := sp.resets
		if op == "+" {
			cands = sp.adds
		}
		return prefixed(lead+op, match(cands, body[1:]))
	}
	if name, val, ok := strings.Cut(body, ":"); ok {
		return prefixed(cur[:len(cur)-len(val)], c.values(verb, o, strings.TrimPrefix(name, "!"), val))
	}
	return prefixed(lead, match(sp.params, body))
}

// hasPositional reports whether args hold the positional identifier.
func hasPositional(args []string) bool {
	for _, a := range args {
		if !isHelpToken(a) && (a == "" || (a[0] != '/' && a[0] != '-')) {
			return true
		}
	}
	return false
}

// values completes the value of /name: for the verb and object.
func (c *completer) values(verb string, o *object, name, val string) []string {
	n := strings.ToLower(name)
	var cands []string
	switch {
	case n == "name" && verb == "list":
		if ids := idSources[o.name]; ids != nil {
			cands = ids(c)
		}
	case n == "apppool.name" || n == "applicationpool" || n == "copyfrom" || n == "reassignto" || n == "pool":
		cands = poolNames(c)
	case n == "site.name":
		cands = siteNames(c)
	case n == "app.name":
		cands = appNames(c)
	case n == "vdir.name":
		cands = vdirNames(c)
	case n == "backup.name":
		cands = backupNames(c)
	case n == "section" && o.name == "config":
		for _, s := range sections() {
			cands = append(cands, s.name)
		}
	case n == "text" && verb == "list":
		cands = append([]string{"*"}, viewKeys(o)...)
	case n == "config" && verb == "list" && o.name == "apppool":
		cands = []string{"*"}
	case n == "in" || n == "passphrasefile":
		return c.pathsFor(val, false)
	case n == "physicalpath" || n == "processmodel.workingdirectory":
		return c.pathsFor(val, true)
	default:
		if f := fieldFor(o, name); f != nil {
			cands = fieldValues(f)
		}
	}
	return match(cands, val)
}

// fieldFor finds the schema row a parameter name sets on the object.
func fieldFor(o *object, name string) *store.Field {
	if o.name == "config" {
		for _, s := range sections() {
			if p, ok := cutPrefixFold(name, s.prefix); ok {
				if f, ok := s.schema.Lookup(p); ok {
					return f
				}
			}
		}
		return nil
	}
	if s := objectSchemas[o.name]; s != nil {
		if f, ok := s.Lookup(name); ok {
			return f
		}
	}
	return nil
}

// fieldValues are the values worth offering for a property: the names of
// an enum or flags property, true and false for a bool.
func fieldValues(f *store.Field) []string {
	switch f.Kind {
	case store.KindBool:
		return []string{"true", "false"}
	case store.KindEnum, store.KindFlags:
		var out []string
		for _, v := range f.Values {
			if v.Name != "" {
				out = append(out, v.Name)
			}
		}
		return out
	}
	return nil
}

// match returns the candidates that start with prefix, case-insensitively,
// in order and without duplicates.
func match(cands []string, prefix string) []string {
	lp := strings.ToLower(prefix)
	var out []string
	seen := map[string]bool{}
	for _, c := range cands {
		if seen[c] || !strings.HasPrefix(strings.ToLower(c), lp) {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}

// prefixed puts p before each candidate.
func prefixed(p string, cands []string) []string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = p + c
	}
	return out
}
