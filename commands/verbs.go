package commands

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/commands/params"
)

// handler runs one verb on one object with its parsed parameters.
type handler func(e *env, a params.Args) error

// action is one verb of one object, with its usage line.
type action struct {
	run   handler
	usage string // "poolctl add apppool /name:NAME [/property:value ...]"
	help  string // one sentence
}

// object is a kind of thing poolctl manages, with the verbs it takes.
type object struct {
	name    string   // "apppool"
	aliases []string // "apppools"
	summary string
	actions map[string]action
	schema  func() []propHelp // properties for /?, or nil
}

// verbOrder is the order verbs appear in help.
var verbOrder = []string{"list", "add", "set", "delete", "start", "stop", "recycle", "restore"}

var verbSummaries = map[string]string{
	"list":    "Show objects, filtered by any property",
	"add":     "Create an object",
	"set":     "Change an object's properties",
	"delete":  "Remove an object",
	"start":   "Start a pool or site, and keep it started across host restarts",
	"stop":    "Stop a pool or site, and keep it stopped across host restarts",
	"recycle": "Replace a pool's workers without dropping a request",
	"restore": "Replace the store with a backup or history snapshot",
}

// objects lists every object kind, in help order.
func objects() []*object {
	return []*object{apppoolObject(), siteObject(), appObject(), vdirObject(), wpObject(), requestObject(), hostObject(), eventObject(), configObject(), backupObject()}
}

func verbNames() []string { return verbOrder }

// errHelpShown ends a run that printed help; it is not an error.
var errHelpShown = errors.New("help shown")

// verbCommands builds one urfave command per verb, each with one
// subcommand per object that takes the verb. Object commands skip urfave's
// flag parsing: their arguments are appcmd parameters.
func verbCommands() []*cli.Command {
	objs := objects()
	var cmds []*cli.Command
	for _, verb := range verbOrder {
		cmd := &cli.Command{
			Name:            verb,
			Usage:           verbSummaries[verb],
			HideHelp:        true,
			HideHelpCommand: true,
			SkipFlagParsing: true,
		}
		var names []string
		for _, o := range objs {
			act, ok := o.actions[verb]
			if !ok {
				continue
			}
			names = append(names, o.name)
			cmd.Subcommands = append(cmd.Subcommands, objectCommand(verb, o, act))
		}
		cmd.Action = func(c *cli.Context) error {
			first := c.Args().First()
			if first == "" || isHelpToken(first) {
				printVerbHelp(c.App.Writer, verb, objs)
				return errHelpShown
			}
			return usagef("%s takes no object %q; objects: %s (see 'poolctl %s /?')", verb, first, strings.Join(names, ", "), verb)
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

func isHelpToken(s string) bool {
	return slices.Contains([]string{"/?", "-?", "-h", "--help", "/h", "help"}, strings.ToLower(s))
}

func objectCommand(verb string, o *object, act action) *cli.Command {
	return &cli.Command{
		Name:            o.name,
		Aliases:         o.aliases,
		Usage:           act.help,
		UsageText:       act.usage,
		HideHelp:        true,
		HideHelpCommand: true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			a, err := params.Parse(c.Args().Slice())
			if err != nil {
				return fmt.Errorf("%w (see 'poolctl %s %s /?')", err, verb, o.name)
			}
			if a.Help {
				printObjectHelp(c.App.Writer, verb, o)
				return errHelpShown
			}
			return act.run(newEnv(c), a)
		},
	}
}

// identifier returns the object's identifier: the positional one, or the
// named form (/apppool.name:X). Giving both, differently, is an error.
func identifier(a params.Args, named ...string) (string, bool, error) {
	p, hasNamed := a.Lookup(named...)
	switch {
	case a.HasID && hasNamed && !strings.EqualFold(a.ID, p.Value):
		return "", false, usagef("the parameter %q must begin with a / or -: the identifier is already given as /%s:%s (give one identifier)", a.ID, p.Name, p.Value)
	case a.HasID:
		return a.ID, true, nil
	case hasNamed:
		return p.Value, true, nil
	}
	return "", false, nil
}

// requireID returns the identifier or a usage error that shows the forms.
func requireID(a params.Args, object string, named ...string) (string, error) {
	id, ok, err := identifier(a, named...)
	if err != nil {
		return "", err
	}
	if !ok || id == "" {
		return "", usagef("which %s? give its identifier: poolctl <verb> %s NAME, or /%s:NAME", object, object, named[0])
	}
	return id, nil
}

// noParams fails when parameters are left that the command does not take.
func noParams(a params.Args, verb, object string) error {
	if len(a.Params) > 0 {
		return usagef("%s %s takes no parameter %q (see 'poolctl %s %s /?')", verb, object, a.Params[0].Raw, verb, object)
	}
	return nil
}

// listArgs are the parsed parameters of a list command.
type listArgs struct {
	id      string // the identifier, when one was given
	hasID   bool
	mode    outputMode
	filters []filter
}

// parseList reads list's identifier (positional or /named:X), output
// switches and filters, which must name properties of v.
func parseList(a params.Args, named string, v *view) (listArgs, error) {
	var l listArgs
	var err error
	if l.id, l.hasID, err = identifier(a, named); err != nil {
		return l, err
	}
	rest, _ := a.Take(named)
	if rest, l.mode, err = takeOutput(rest); err != nil {
		return l, err
	}
	l.filters, err = v.parseFilters(rest.Params)
	return l, err
}

// idAndRest returns the identifier a command requires and the parameters
// left after it.
func idAndRest(a params.Args, object, named string) (string, params.Args, error) {
	id, err := requireID(a, object, named)
	if err != nil {
		return "", a, err
	}
	rest, _ := a.Take(named)
	return id, rest, nil
}

// idOnly returns the identifier of a command that takes no other
// parameter, such as delete, start or stop.
func idOnly(a params.Args, verb, object, named string) (string, error) {
	id, rest, err := idAndRest(a, object, named)
	if err != nil {
		return "", err
	}
	return id, noParams(rest, verb, object)
}

// without returns s without the element p points into it.
func without[T any](s []T, p *T) []T {
	for i := range s {
		if &s[i] == p {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}
