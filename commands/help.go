package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/store"
)

// propHelp is one property line of an object's help.
type propHelp struct {
	name, kind, def, valid, help string
}

// schemaHelp lists a schema's properties for help, with a prefix for
// nested use (applicationPoolDefaults.).
func schemaHelp(s *store.Schema, prefix string) []propHelp {
	out := make([]propHelp, 0, len(s.Fields))
	for _, f := range s.Fields {
		out = append(out, propHelp{name: prefix + f.Path, kind: f.Kind.String(), def: f.Default, valid: f.Range(), help: f.Help})
	}
	return out
}

const overview = `poolctl: IIS-style application pools for Linux

Usage:
  poolctl [--config FILE] [--socket PATH] [--timeout D] <verb> <object> [id] [/param:value ...]
  poolctl host                 run the host (HTTP front and workers) in the foreground
  poolctl help [object|verb]   this text, or the help of one object or verb
  poolctl version [/json]      the version and build information
  poolctl completion SHELL     the completion script for bash, zsh or fish

Parameters start with / or - (-name:value is /name:value). Verbs and objects
are case-insensitive, and plurals work: 'poolctl list apppools'.
Collections: /+path.[key='value',...] adds, /-path.[key='value'] removes an
element; /-property resets a property to its inherited value. In a shell,
double-quote such a parameter: "/+environmentVariables.[name='FOO',value='a b']".
List filters: /property:value, or an operator: $= (wildcard), $<>, $>, $>=,
$<, $<=; single-quote them in a shell: '/queueLength:$>1000' '/name:$=Web*'.
List output: a table; /text:ATTR bare values; /text:* every property; /json.
appcmd's /commit:apphost is accepted (one store); /xml is not: use /json.
`

const exitCodeHelp = `Exit codes:
  0 success                 5 already in the requested state
  1 other failure           6 poolctl host is not running
  2 usage or invalid value  7 permission denied
  3 not found               8 refused: the object is in use
  4 already exists          9 the store stayed locked for --timeout
                           10 the store (etcd) could not be reached
`

func printOverview(w io.Writer) {
	var b strings.Builder
	b.WriteString(overview)
	b.WriteString("\nVerbs:\n")
	for _, v := range verbOrder {
		fmt.Fprintf(&b, "  %-8s %s\n", v, verbSummaries[v])
	}
	b.WriteString("\nObjects:\n")
	for _, o := range objects() {
		var verbs []string
		for _, v := range verbOrder {
			if _, ok := o.actions[v]; ok {
				verbs = append(verbs, v)
			}
		}
		fmt.Fprintf(&b, "  %-8s %s (%s)\n", o.name, o.summary, strings.Join(verbs, ", "))
	}
	b.WriteString("\nGlobal flags (before the verb):\n")
	b.WriteString("  --config FILE   store file; $POOLCTL_CONFIG; default /etc/poolctl/applicationHost.toml\n")
	b.WriteString("                  for root, $XDG_CONFIG_HOME/poolctl/applicationHost.toml otherwise\n")
	b.WriteString("  --socket PATH   host control socket; $POOLCTL_SOCKET\n")
	b.WriteString("  --timeout D     wait this long for the store lock and the host (default 30s)\n")
	b.WriteString("  --state-dir DIR the host's state directory, for list event; $POOLCTL_STATE_DIR\n\n")
	b.WriteString(exitCodeHelp)
	b.WriteString("\nSee 'poolctl <verb> <object> /?' for the usage and properties of one object.\n")
	io.WriteString(w, b.String())
}

func printVerbHelp(w io.Writer, verb string, objs []*object) {
	var b strings.Builder
	fmt.Fprintf(&b, "poolctl %s: %s\n\n", verb, verbSummaries[verb])
	for _, o := range objs {
		if act, ok := o.actions[verb]; ok {
			fmt.Fprintf(&b, "  %s\n      %s\n", act.usage, act.help)
		}
	}
	fmt.Fprintf(&b, "\nSee 'poolctl %s <object> /?' for the properties of one object.\n", verb)
	io.WriteString(w, b.String())
}

func printObjectHelp(w io.Writer, verb string, o *object) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n\n", strings.ToUpper(o.name), o.summary)
	verbs := verbOrder
	if verb != "" {
		verbs = []string{verb}
	}
	b.WriteString("Usage:\n")
	for _, v := range verbs {
		if act, ok := o.actions[v]; ok {
			fmt.Fprintf(&b, "  %s\n      %s\n", act.usage, act.help)
		}
	}
	if o.schema != nil {
		b.WriteString("\nProperties:\n")
		rows := [][]string{}
		for _, p := range o.schema() {
			def := p.def
			if def == "" && p.kind != "collection" {
				def = `""`
			}
			rows = append(rows, []string{p.name, p.kind, def, p.valid, p.help})
		}
		io.WriteString(w, b.String())
		b.Reset()
		_ = writeTable(w, []string{"PROPERTY", "TYPE", "DEFAULT", "VALUES", "DESCRIPTION"}, rows)
	}
	io.WriteString(w, b.String())
}

// helpCommand is 'poolctl help [object|verb]'.
func helpCommand() *cli.Command {
	return &cli.Command{
		Name:            "help",
		Usage:           "Show help",
		HideHelp:        true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			topic := strings.ToLower(c.Args().First())
			w := c.App.Writer
			if topic == "" {
				printOverview(w)
				return nil
			}
			for _, v := range verbOrder {
				if v == topic {
					printVerbHelp(w, v, objects())
					return nil
				}
			}
			for _, o := range objects() {
				if o.name == topic || containsFold(o.aliases, topic) {
					printObjectHelp(w, "", o)
					return nil
				}
			}
			return usagef("no help topic %q: give a verb (%s) or an object", topic, strings.Join(verbOrder, ", "))
		},
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
