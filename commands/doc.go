// Package commands is poolctl's command line: the appcmd grammar
// `poolctl [--global-flags] <verb> <object> [id] [/param:value ...]`, one
// file per object, output rendering, and the mapping of errors to the
// documented exit codes. Main is its only entry point.
package commands
