package commands

import (
	"github.com/urfave/cli/v2"
)

// Reference is poolctl's command line as data: what the generated
// reference (docs/reference, the man pages) is written from, so that it
// cannot drift from the code.
type Reference struct {
	Overview    string      // the text of 'poolctl help' before the lists
	Verbs       []VerbRef   // in help order
	Objects     []ObjectRef // in help order
	GlobalFlags []FlagRef   // before the verb
	HostFlags   []FlagRef   // of 'poolctl host'
	HostUsage   string      // one line: what 'poolctl host' does
	ExitCodes   []ExitCodeRef
}

// VerbRef is one verb.
type VerbRef struct{ Name, Summary string }

// ObjectRef is one object kind and what each verb does to it.
type ObjectRef struct {
	Name, Summary string
	Aliases       []string
	Actions       []ActionRef   // in verb order
	Properties    []PropertyRef // as 'poolctl help OBJECT' lists them
}

// PropertyRef is one property as help lists it.
type PropertyRef struct{ Name, Type, Default, Values, Help string }

// ActionRef is one verb of one object.
type ActionRef struct{ Verb, Usage, Help string }

// FlagRef is one flag of urfave/cli.
type FlagRef struct {
	Names   []string // "config", "c"
	Value   bool     // it takes a value
	Default string   // "" when none
	Env     []string // environment variables that set it
	Usage   string
}

// ExitCodeRef is one exit code.
type ExitCodeRef struct {
	Code    int
	Meaning string
}

// exitCodes documents the exit codes of exit.go, in order.
var exitCodes = []ExitCodeRef{
	{ExitOK, "success"},
	{ExitFailure, "any other failure: I/O errors, a failure the host reported"},
	{ExitUsage, "bad command line or invalid value (nothing was changed); also appcmd idioms poolctl cannot honour on Linux"},
	{ExitNotFound, "the object (pool, site, app, vdir, backup, section) does not exist"},
	{ExitExists, "an object with that name or key already exists"},
	{ExitAlreadyInState, "start of a started pool or site, stop of a stopped one"},
	{ExitHostDown, "the command needs poolctl host and it is not running"},
	{ExitPermission, "not allowed: file permissions, or the host refused the caller"},
	{ExitInUse, "refused because others still use the object (a pool with applications)"},
	{ExitBusy, "the store stayed locked by another poolctl for --timeout"},
	{ExitUnavailable, "the store could not be reached (etcd did not answer); nothing was changed"},
}

// CommandReference returns the command line as data.
func CommandReference() Reference {
	r := Reference{Overview: overview, GlobalFlags: flagRefs(globalFlags()), ExitCodes: exitCodes}
	for _, v := range verbOrder {
		r.Verbs = append(r.Verbs, VerbRef{Name: v, Summary: verbSummaries[v]})
	}
	for _, o := range objects() {
		or := ObjectRef{Name: o.name, Summary: o.summary, Aliases: o.aliases}
		if o.schema != nil {
			for _, p := range o.schema() {
				or.Properties = append(or.Properties, PropertyRef{Name: p.name, Type: p.kind, Default: p.def, Values: p.valid, Help: p.help})
			}
		}
		for _, v := range verbOrder {
			if act, ok := o.actions[v]; ok {
				or.Actions = append(or.Actions, ActionRef{Verb: v, Usage: act.usage, Help: act.help})
			}
		}
		r.Objects = append(r.Objects, or)
	}
	host := hostCommand()
	r.HostUsage = host.Usage
	r.HostFlags = flagRefs(host.Flags)
	return r
}

// flagRefs describes urfave flags; the help flag is left out.
func flagRefs(flags []cli.Flag) []FlagRef {
	var out []FlagRef
	for _, f := range flags {
		d, ok := f.(cli.DocGenerationFlag)
		if !ok || f.Names()[0] == "help" {
			continue
		}
		fr := FlagRef{Names: f.Names(), Value: d.TakesValue(), Env: d.GetEnvVars(), Usage: d.GetUsage()}
		if fr.Value {
			fr.Default = d.GetValue()
		}
		out = append(out, fr)
	}
	return out
}
