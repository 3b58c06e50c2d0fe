package commands

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/poolctl/poolctl/commands/params"
	"github.com/poolctl/poolctl/internal/buildinfo"
)

// versionCommand is 'poolctl version [/json]': the version and the build
// information of the binary.
func versionCommand() *cli.Command {
	return &cli.Command{
		Name:            "version",
		Usage:           "Show the version and build information",
		UsageText:       "poolctl version [/json]",
		HideHelp:        true,
		HideHelpCommand: true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			a, err := params.Parse(c.Args().Slice())
			if err != nil {
				return fmt.Errorf("%w (see 'poolctl version /?')", err)
			}
			if a.Help {
				fmt.Fprintln(c.App.Writer, "Usage: poolctl version [/json]\n\nPrints the version, the VCS revision, time and state it was built from, the Go version and the platform; /json as one JSON object.")
				return errHelpShown
			}
			rest, taken := a.Take("json")
			if a.HasID {
				return usagef("version takes no argument %q; give /json for JSON output", a.ID)
			}
			if len(rest.Params) > 0 {
				return usagef("version takes only /json, not %q", rest.Params[0].Raw)
			}
			for _, p := range taken {
				if p.HasValue && !strings.EqualFold(p.Value, "true") {
					return usagef("/json takes no value")
				}
			}
			info := buildinfo.Read()
			if len(taken) > 0 {
				return writeVersionJSON(c.App.Writer, info)
			}
			return writeVersion(c.App.Writer, info)
		},
	}
}

// versionJSON is the object 'poolctl version /json' prints.
type versionJSON struct {
	Version string `json:"version"`
	buildinfo.Info
}

func writeVersionJSON(w io.Writer, info buildinfo.Info) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(versionJSON{Version: info.Version(), Info: info})
}

// writeVersion prints "poolctl VERSION" and one "key: value" line per
// recorded build fact.
func writeVersion(w io.Writer, info buildinfo.Info) error {
	var b strings.Builder
	fmt.Fprintf(&b, "poolctl %s\n", info.Version())
	if info.Module != "" {
		fmt.Fprintf(&b, "module:   %s %s\n", info.Module, info.ModuleVersion)
	} else {
		fmt.Fprintf(&b, "module:   %s\n", info.ModuleVersion)
	}
	if info.Revision != "" {
		fmt.Fprintf(&b, "revision: %s\n", info.ShortRevision())
	}
	if info.Time != "" {
		fmt.Fprintf(&b, "time:     %s\n", info.Time)
	}
	if info.Revision != "" {
		fmt.Fprintf(&b, "modified: %t\n", info.Modified)
	}
	fmt.Fprintf(&b, "go:       %s\n", info.GoVersion)
	fmt.Fprintf(&b, "platform: %s/%s\n", info.OS, info.Arch)
	_, err := io.WriteString(w, b.String())
	return err
}
